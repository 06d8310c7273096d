import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {readWeightFiles} from '../../src/model/weight-files.js'
import {GENERATED, STORIES, dlec} from '../helpers/cli.js'
import {readmeParagraph} from '../eval/readme-texts.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-eval-cli-'))
const cache = join(work, 'cache')
const para = join(work, 'paragraph.txt')
writeFileSync(para, readmeParagraph())
const env = {DLEC_CACHE_DIR: cache}

interface EvalJson {
  layers: number[]
  tokens: number
  perplexity: number
  original: {perplexity: number}
  meanKl: number
  top1Agreement: number
  chunkedTexts: number
  probe?: {candidate: {items: number; accuracy: number}; original: {accuracy: number}}
}

const run = async (args: string[]): Promise<EvalJson> => {
  const r = await dlec(['eval', ...args, '--json', '--threads', '1'], {env})
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as EvalJson
}

/** Expects a failure: the exit code and a one-line message matching `pattern`, no stack trace. */
const fails = async (args: string[], code: number, pattern: RegExp): Promise<void> => {
  const r = await dlec(['eval', ...args, '--threads', '1'], {env})
  assert.equal(r.code, code, `exit code for ${args.join(' ')}: ${r.stderr}`)
  // oclif wraps long messages at the terminal width: compare the message as one line.
  assert.match(r.stderr.replace(/\s*\n\s*(›\s*)?/g, ' '), pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

describe('dlec eval', () => {
  it('reproduces the stories260K README perplexities: original, --layers and --plan', async () => {
    const original = await run([STORIES, '--data', para])
    assert.equal(original.tokens, 149)
    assert.equal(original.perplexity.toFixed(3), '2.833')
    const seq = await run([STORIES, '--data', para, '--layers', '0,1,2,1,2,3,4'])
    assert.equal(seq.perplexity.toFixed(2), '3.62')
    assert.ok(seq.meanKl > 0 && seq.top1Agreement < 1)
    const plan = join(work, 'plan.yaml')
    writeFileSync(
      plan,
      `slices:\n  - sources:\n      - model: ${STORIES}\n        layer_range: [0, 3]\n  - sources:\n      - model: ${STORIES}\n        layer_range: [2, 5]\nmerge_method: passthrough\ndtype: float32\n`,
    )
    const fromPlan = await run([STORIES, '--data', para, '--plan', plan])
    assert.deepEqual(fromPlan.layers, [0, 1, 2, 2, 3, 4])
    const direct = await run([STORIES, '--data', para, '--layers', '0,1,2,2,3,4'])
    assert.equal(fromPlan.perplexity, direct.perplexity)
  })

  it('a Hub id in the HF cache (snapshot files are symlinks into blobs/): weights referenced in place', async () => {
    const hub = join(work, 'hf-hub')
    const repo = join(hub, 'models--karpathy--stories260K')
    const commit = 'a'.repeat(40)
    mkdirSync(join(repo, 'blobs'), {recursive: true})
    mkdirSync(join(repo, 'snapshots', commit), {recursive: true})
    mkdirSync(join(repo, 'refs'))
    writeFileSync(join(repo, 'refs', 'main'), commit)
    for (const f of readdirSync(STORIES)) {
      const bytes = readFileSync(join(STORIES, f))
      const blob = createHash('sha256').update(bytes).digest('hex')
      writeFileSync(join(repo, 'blobs', blob), bytes)
      symlinkSync(join('..', '..', 'blobs', blob), join(repo, 'snapshots', commit, f))
    }
    const r = await dlec(['eval', 'karpathy/stories260K', '--data', para, '--json', '--threads', '1'], {env: {...env, HF_HUB_CACHE: hub, HF_HUB_OFFLINE: '1'}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as EvalJson).perplexity.toFixed(3), '2.833')
  })

  it('--quant int8: block-quantized projections, perplexity within 0.5% of fp32', async () => {
    const r = await run([STORIES, '--data', para, '--quant', 'int8'])
    assert.ok(Math.abs(r.perplexity / 2.833 - 1) < 0.005, String(r.perplexity))
    assert.notEqual(r.perplexity.toFixed(6), '2.833082')
  })

  it('--quant w8a8: int8 weights and activations, perplexity within 1% of fp32 (README: 2.833), and the report names the format', async () => {
    const r = await dlec(['eval', STORIES, '--data', para, '--quant', 'w8a8', '--json', '--threads', '1'], {env})
    assert.equal(r.code, 0, r.stderr)
    const j = JSON.parse(r.stdout) as EvalJson & {weightFormat: {format: string; reason: string}}
    assert.ok(Math.abs(j.perplexity / 2.833 - 1) < 0.01, String(j.perplexity))
    assert.notEqual(j.perplexity.toFixed(6), '2.833082')
    assert.equal(j.weightFormat.format, 'w8a8')
    const human = await dlec(['eval', STORIES, '--data', para, '--threads', '1'], {env})
    assert.match(human.stdout, /weights {4}fp32 \(auto: 1\.2 MB as float32, within the 2\.0 GB fp32 limit: exact; float32 checkpoint read in place, no copy\)/)
  })

  it('prints a human report, and says when texts were chunked', async () => {
    const r = await dlec(['eval', STORIES, '--data', para, '--layers', '0,1,2,3,4,4', '--window', '64', '--threads', '1'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /layers {5}0,1,2,3,4,4 \(6 layers\)/)
    assert.match(r.stdout, /1 text\(s\) longer than 64 tokens were chunked/)
    assert.match(r.stdout, /original {3}1\.\d{4} nats\/token {3}perplexity \d\.\d{3}/)
    assert.match(r.stdout, /vs original: mean KL 0\.\d{4} {3}top-1 agreement \d+\.\d% {3}loss \+0\.\d{4}/)
  })

  it('--probe: multiple-choice accuracy by log-likelihood, for the candidate and the original', async () => {
    const probe = join(work, 'probe.jsonl')
    const items = [
      {question: 'Once upon a time, there was a little', choices: ['girl', 'of the'], answer: 0},
      {question: 'Max wagged his', choices: ['tail', 'sky blue'], answer: 'tail'},
      {question: 'They played all day until the sun went', choices: ['down', 'tree big'], answer: 'A'},
    ]
    writeFileSync(probe, items.map((i) => JSON.stringify(i)).join('\n'))
    const r = await run([STORIES, '--data', para, '--probe', probe])
    assert.equal(r.probe?.candidate.items, 3)
    assert.equal(r.probe?.candidate.accuracy, 1)
    assert.equal(r.probe?.original.accuracy, 1)
  })

  it('bad input: clear one-line errors and their exit codes', async () => {
    await fails([STORIES, '--data', join(work, 'missing.txt')], 10, /missing\.txt: cannot read the data file \(no such file\)/)
    const empty = join(work, 'empty.txt')
    writeFileSync(empty, '  \n')
    await fails([STORIES, '--data', empty], 10, /empty\.txt: no text samples found/)
    await fails([STORIES, '--data', para, '--layers', '0,1,9'], 9, /layer 9 is out of range: the model has layers 0\.\.4/)
    await fails([STORIES, '--data', para, '--layers', '0,x'], 2, /--layers 0,x: expected comma-separated layer indices/)

    const badProbe = join(work, 'bad-probe.jsonl')
    writeFileSync(badProbe, '{"question": "q", "choices": ["a", "b"], "answer": 5}\n')
    await fails([STORIES, '--data', para, '--probe', badProbe], 10, /bad-probe\.jsonl:1: "answer" must be a choice index/)
    const slerp = join(work, 'slerp.yaml')
    writeFileSync(slerp, `slices:\n  - sources:\n      - model: ${STORIES}\n        layer_range: [0, 5]\n      - model: ${STORIES}\n        layer_range: [0, 5]\nmerge_method: slerp\nbase_model: ${STORIES}\nparameters:\n  t: 0.5\ndtype: float32\n`)
    await fails([STORIES, '--data', para, '--plan', slerp], 3, /merge_method slerp mixes weights; dlec eval --plan runs passthrough plans only/)

    const noTok = join(work, 'no-tokenizer')
    cpSync(STORIES, noTok, {recursive: true})
    rmSync(join(noTok, 'tokenizer.json'))
    await fails([noTok, '--data', para], 4, /no tokenizer\.json/)

    const mamba = join(work, 'mamba')
    cpSync(STORIES, mamba, {recursive: true})
    const config = JSON.parse(readFileSync(join(STORIES, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(mamba, 'config.json'), JSON.stringify({...config, architectures: ['MambaForCausalLM'], model_type: 'mamba'}))
    await fails([mamba, '--data', para], 4, /unsupported architecture MambaForCausalLM/)
    const yarn = join(work, 'yarn')
    cpSync(STORIES, yarn, {recursive: true})
    writeFileSync(join(yarn, 'config.json'), JSON.stringify({...config, rope_scaling: {rope_type: 'yarn', factor: 4}}))
    await fails([yarn, '--data', para], 4, /rope scaling type yarn is not supported/)

    const nan = join(work, 'nan')
    cpSync(join(GENERATED, 'llama'), nan, {recursive: true})
    const target = (await readWeightFiles(nan)).tensors.get('model.layers.2.mlp.up_proj.weight')
    assert.ok(target)
    const bytes = readFileSync(target.file)
    bytes.writeFloatLE(Number.NaN, target.offset + 4 * 17)
    writeFileSync(target.file, bytes)
    await fails([nan, '--data', para], 4, /tensor model\.layers\.2\.mlp\.up_proj\.weight contains NaN at element 17/)
  })
})
