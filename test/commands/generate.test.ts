import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {STORIES, dlec} from '../helpers/cli.js'
import {readmeBlock} from '../eval/readme-texts.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-generate-cli-'))
const env = {DLEC_CACHE_DIR: join(work, 'cache')}
const base = [STORIES, '--prompt', 'Once upon a time', '--threads', '1']

interface GenerateJson {
  layers: number[]
  tokens: number[]
  text: string
  completion: string
  stopReason: string
  sampling: {temperature: number; topK?: number; seed?: number}
  tokensPerSecond: number
}

const fails = async (args: string[], code: number, pattern: RegExp): Promise<void> => {
  const r = await dlec(['generate', ...args], {env})
  assert.equal(r.code, code, `exit code for ${args.join(' ')}: ${r.stderr}`)
  assert.match(r.stderr.replace(/\s*\n\s*(›\s*)?/g, ' '), pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

describe('dlec generate', () => {
  it('prints the README continuation of "Once upon a time" (stdout: the text; stderr: tokens and speed)', async () => {
    const expected = readmeBlock('Greedy continuation')
    const r = await dlec(['generate', ...base, '--max-new-tokens', '160'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.slice(0, expected.length), expected)
    assert.match(r.stderr, /^160 tokens \(max-new-tokens\), greedy, layers 0,1,2,3,4: [\d.]+ tokens\/s \(prompt 5 tokens in \d+ ms\)\n$/)
  })

  it('--json: the report; --plan runs the YAML\'s layer sequence, as --layers does', async () => {
    const plan = join(work, 'plan.yaml')
    writeFileSync(
      plan,
      `slices:\n  - sources:\n      - model: ${STORIES}\n        layer_range: [0, 4]\n  - sources:\n      - model: ${STORIES}\n        layer_range: [3, 5]\nmerge_method: passthrough\ndtype: float32\n`,
    )
    const fromPlan = await dlec(['generate', ...base, '--plan', plan, '--max-new-tokens', '20', '--json'], {env})
    assert.equal(fromPlan.code, 0, fromPlan.stderr)
    const p = JSON.parse(fromPlan.stdout) as GenerateJson
    assert.deepEqual(p.layers, [0, 1, 2, 3, 3, 4])
    assert.equal(p.tokens.length, 20)
    const direct = JSON.parse((await dlec(['generate', ...base, '--layers', '0,1,2,3,3,4', '--max-new-tokens', '20', '--json'], {env})).stdout) as GenerateJson
    assert.deepEqual(direct.tokens, p.tokens)
    assert.equal(p.text, `Once upon a time${p.completion}`)
  })

  it('--temperature / --top-k / --seed sample reproducibly', async () => {
    const args = [...base, '--max-new-tokens', '16', '--temperature', '0.9', '--top-k', '20', '--seed', '5', '--json']
    const a = JSON.parse((await dlec(['generate', ...args], {env})).stdout) as GenerateJson
    const b = JSON.parse((await dlec(['generate', ...args], {env})).stdout) as GenerateJson
    assert.deepEqual(a.sampling, {temperature: 0.9, topK: 20, seed: 5})
    assert.deepEqual(a.tokens, b.tokens)
  })

  it('bad input: one line, its exit code, no stack trace', async () => {
    await fails([...base, '--layers', '0,1,7'], 9, /layer 7 is out of range: the model has layers 0\.\.4/)
    await fails([...base, '--layers', '0,x'], 2, /--layers 0,x: expected comma-separated layer indices/)
    await fails([...base, '--temperature', 'hot'], 2, /--temperature hot: expected a number >= 0/)
    await fails([...base, '--layers', '0,1', '--plan', 'p.yaml'], 2, /cannot also be provided when using --(layers|plan)/)
    await fails([STORIES, '--max-new-tokens', '4'], 2, /Missing required flag prompt/)
  })
})
