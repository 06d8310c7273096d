import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'
import {generate, generateIter, type GenerateParams} from '../../src/generate/generate.js'
import {GENERATED, ROOT, STORIES, python} from '../helpers/cli.js'
import {readmeBlock} from '../eval/readme-texts.js'

const cacheDir = mkdtempSync(join(tmpdir(), 'dlec-generate-cache-'))
const FAMILIES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi', 'phi3', 'gpt2']
// Zero-copy expansions, compared with transformers on a hand-assembled expanded model (a deep copy
// of the source layer at each position, its own cache slot).
const SEQUENCES: Record<string, [string, number[]]> = {
  'stories@seq': [STORIES, [0, 1, 2, 3, 3, 4]],
  'llama@seq': [join(GENERATED, 'llama'), [0, 1, 1, 2, 3]],
  'gemma2@seq': [join(GENERATED, 'gemma2'), [0, 1, 2, 2, 3, 1]],
  'phi@seq': [join(GENERATED, 'phi'), [0, 2, 2, 1]],
  'gpt2@seq': [join(GENERATED, 'gpt2'), [0, 0, 1, 2]],
  'qwen3@seq': [join(GENERATED, 'qwen3'), [1, 0, 1]],
}
const PROMPT = [1, 403, 407, 261, 378] // "Once upon a time" in the stories260K vocabulary (every fixture's)
const NEW_TOKENS = 24

const run = (p: Partial<GenerateParams> & {modelDir: string}): ReturnType<typeof generate> => generate({cacheDir, threads: 1, ...p})

describe('dlec generate (library)', () => {
  let reference: Record<string, number[]>
  before(() => {
    const out = join(mkdtempSync(join(tmpdir(), 'dlec-genref-')), 'ref.json')
    const targets = [`stories=${STORIES}`, ...FAMILIES.map((f) => `${f}=${join(GENERATED, f)}`)]
    for (const [name, [dir, layers]] of Object.entries(SEQUENCES)) {
      targets.push(`${name}=${dir}@${layers.join(',')}`)
    }
    execFileSync(python(), [join(ROOT, 'test/python/reference_generate.py'), out, String(NEW_TOKENS), PROMPT.join(','), ...targets], {stdio: ['ignore', 'ignore', 'pipe']})
    reference = JSON.parse(readFileSync(out, 'utf8')) as Record<string, number[]>
  })

  it('stories260K: greedy text from "Once upon a time" is the README continuation, character for character', async () => {
    const expected = readmeBlock('Greedy continuation')
    const r = await run({modelDir: STORIES, prompt: 'Once upon a time', maxNewTokens: 160})
    assert.deepEqual(r.promptIds, PROMPT)
    assert.equal(r.stopReason, 'max-new-tokens')
    assert.ok(r.text.length > expected.length, `generated only ${r.text.length} characters`)
    assert.equal(r.text.slice(0, expected.length), expected)
    assert.equal(r.text, `Once upon a time${r.completion}`)
    assert.ok(r.tokensPerSecond > 0 && r.kvCache)
  })

  it('streams token events whose texts add up to the completion', async () => {
    const it = generateIter({modelDir: STORIES, cacheDir, threads: 1, prompt: 'Once upon a time', maxNewTokens: 40})
    let streamed = ''
    const ids: number[] = []
    let next = await it.next()
    while (next.done !== true) {
      if (next.value.type === 'token') {
        streamed += next.value.text
        ids.push(next.value.id)
      }
      next = await it.next()
    }
    assert.deepEqual(ids, next.value.tokens)
    assert.equal(streamed, next.value.completion)
  })

  for (const name of ['stories', ...FAMILIES]) {
    it(`${name}: greedy tokens equal transformers' generate (do_sample=False), with and without the KV cache`, async () => {
      const modelDir = name === 'stories' ? STORIES : join(GENERATED, name)
      const expected = reference[name]
      assert.ok(expected && expected.length > 0)
      const cached = await run({modelDir, promptIds: PROMPT, maxNewTokens: NEW_TOKENS})
      assert.deepEqual(cached.tokens, expected)
      const full = await run({modelDir, promptIds: PROMPT, maxNewTokens: NEW_TOKENS, kvCache: false})
      assert.deepEqual(full.tokens, expected)
    })
  }

  for (const [name, [modelDir, layers]] of Object.entries(SEQUENCES)) {
    it(`${name} [${layers.join(',')}]: zero-copy greedy tokens equal transformers on the hand-assembled expanded model`, async () => {
      const r = await run({modelDir, layers, promptIds: PROMPT, maxNewTokens: NEW_TOKENS})
      assert.deepEqual(r.tokens, reference[name])
      assert.deepEqual(r.layers, layers)
    })
  }

  it('the expansions change the text (so the checks above can fail)', () => {
    assert.notDeepEqual(reference['stories@seq'], reference.stories)
    assert.notDeepEqual(reference['llama@seq'], reference.llama)
    assert.notDeepEqual(reference['gemma2@seq'], reference.gemma2)
  })

  it('identity copies (scale 0 on both output projections) leave the greedy text of the original unchanged', async () => {
    const original = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 48})
    const zero = {attn: 0, mlp: 0}
    const identity = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 48, layers: [0, 1, 1, 2, 3, 3, 4], scales: [undefined, undefined, zero, undefined, undefined, zero, undefined]})
    assert.deepEqual(identity.tokens, original.tokens)
    assert.deepEqual(identity.scales?.[2], zero)
    const unscaled = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 48, layers: [0, 1, 1, 2, 3, 3, 4]})
    assert.notDeepEqual(unscaled.tokens, original.tokens)
  })

  it('sampling: the same seed gives the same tokens, top-k 1 is greedy, and a stop id ends the text', async () => {
    const greedy = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 32})
    const a = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 32, temperature: 1, seed: 7})
    const b = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 32, temperature: 1, seed: 7})
    assert.deepEqual(a.tokens, b.tokens)
    assert.deepEqual(a.sampling, {temperature: 1, seed: 7})
    const topOne = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 32, temperature: 1.5, topK: 1, seed: 3})
    assert.deepEqual(topOne.tokens, greedy.tokens)
    const hot = await Promise.all([11, 12, 13].map((seed) => run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 32, temperature: 2, seed})))
    assert.ok(hot.some((h) => h.tokens.join() !== greedy.tokens.join()), 'temperature 2 never left the greedy path')
    const stop = greedy.tokens[5] as number
    const stopped = await run({modelDir: STORIES, promptIds: PROMPT, maxNewTokens: 32, stopIds: [stop]})
    assert.deepEqual(stopped.tokens, greedy.tokens.slice(0, greedy.tokens.indexOf(stop) + 1))
    assert.equal(stopped.stopReason, 'eos')
  })

  it('int4 weights: the KV-cache graph gives the tokens of the full re-run on the same block-quantized weights', async () => {
    const modelDir = join(GENERATED, 'llama')
    const kv = await run({modelDir, promptIds: PROMPT, maxNewTokens: NEW_TOKENS, quant: 'int4'})
    const full = await run({modelDir, promptIds: PROMPT, maxNewTokens: NEW_TOKENS, quant: 'int4', kvCache: false})
    assert.deepEqual(kv.tokens, full.tokens)
    assert.notDeepEqual(kv.tokens, reference.llama, 'int4 changes the text of the fp32 model')
  })

  it('stops at the model\'s positions', async () => {
    // gpt2 fixture: 128 positions.
    const r = await run({modelDir: join(GENERATED, 'gpt2'), promptIds: Array.from({length: 120}, (_, i) => 3 + i), maxNewTokens: 50, stopIds: []})
    assert.equal(r.tokens.length, 8)
    assert.equal(r.stopReason, 'max-positions')
  })
})
