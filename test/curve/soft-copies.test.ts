import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {UsageError} from '../../src/errors.js'
import {findCurvePoint, recordCurve} from '../../src/curve/curve-store.js'
import {measureCurve, type MeasuredCurve} from '../../src/curve/measure-curve.js'
import {renderPlanFormat} from '../../src/curve/plan-format.js'
import {copyScales, parseAlphas} from '../../src/curve/soft-strategy.js'
import {tokenWindows} from '../../src/eval/token-windows.js'
import {mergeModelIter} from '../../src/merge/merge-model.js'
import {layerSequenceToConfig} from '../../src/mergekit/layer-sequence-to-config.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {modelOf} from '../../src/model/loaded-model.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {GENERATED, python, STORIES} from '../helpers/cli.js'

const TEXTS = readFileSync(new URL('heldout.txt', import.meta.url), 'utf8').split(/\n\s*\n/)
const WORK = mkdtempSync(join(tmpdir(), 'dlec-soft-'))
after(() => rmSync(WORK, {recursive: true, force: true}))

interface Reference {
  layers?: number[]
  merged?: string
  kl: number
  loss: number
  top1: number
}

describe('soft copies: α grid parsing and copy scales', () => {
  it('parses a grid of distinct αs from 0 to 1 and refuses anything else in one line naming the flag', () => {
    assert.deepEqual(parseAlphas('0,0.25, 0.5,.75,1'), [0, 0.25, 0.5, 0.75, 1])
    assert.deepEqual(parseAlphas('1e-1'), [0.1])
    for (const bad of ['', '0,,1', '1.5', '-0.5', 'half', '0x1', 'NaN', 'Infinity', '0.5,0.5']) {
      assert.throws(
        () => parseAlphas(bad),
        (e: unknown) => e instanceof UsageError && e.message.startsWith('--alphas') && !e.message.includes('\n'),
        bad,
      )
    }
  })

  it('scales every repeated occurrence of a layer (the copies the YAML marks), never an original', () => {
    assert.deepEqual(copyScales([0, 1, 1, 2, 1], 0.5), [undefined, undefined, {attn: 0.5, mlp: 0.5}, undefined, {attn: 0.5, mlp: 0.5}])
  })
})

/**
 * The bar: a soft copy measured at α by the zero-copy curve evaluator equals the natively merged
 * YAML with that scale, run whole in transformers (float64 comparison), to 1e-4; α = 0 equals
 * identity's numbers (exactly: the copy adds nothing) and α = 1 the plain copy (the same layer
 * sequence with shared modules in transformers).
 */
async function checkFamily(modelDir: string, name: string, alphas: number[]): Promise<MeasuredCurve> {
  const model = await modelOf({modelDir})
  const windowSize = Math.min(512, Number(model.config.max_position_embeddings ?? model.config.n_positions ?? 512))
  const curve = await measureCurve({model, cacheDir: join(WORK, 'cache'), texts: TEXTS, strategies: ['soft', 'identity'], maxAdd: 2, alphas, objective: 'loss', windowSize, threads: 1})
  const soft = curve.points.filter((p) => p.strategy === 'soft')
  const identity = curve.points.filter((p) => p.strategy === 'identity')
  assert.equal(soft.length, 2)
  const rows = tokenWindows({tokenizer: loadTokenizer(modelDir), texts: TEXTS, windowSize}).rows
  const merged: {dir: string; added: number; alpha: number}[] = []
  for (const p of soft) {
    assert.deepEqual(p.layers, identity.find((q) => q.added === p.added)?.layers, 'soft places its copies as identity does')
    assert.deepEqual(p.alphaGrid?.map((g) => g.alpha), alphas)
    // the chosen α is the grid's lowest loss
    const best = Math.min(...(p.alphaGrid ?? []).map((g) => g.lossDelta))
    assert.equal(p.lossDelta, best)
    assert.equal(p.alphaGrid?.find((g) => g.alpha === p.alpha)?.lossDelta, best)
    for (const alpha of alphas) {
      const dir = join(WORK, `${name}-${p.added}-${alpha}`)
      const config = layerSequenceToConfig({model: modelDir, layers: p.layers, copyScale: alpha, arch: model.arch})
      const events = mergeModelIter({config: {config, text: toYaml(config)}, out: dir, engine: 'native', outShardSize: 1e9})
      for (let r = await events.next(); r.done !== true; r = await events.next()) {
        // drain progress events
      }
      merged.push({dir, added: p.added, alpha})
    }
  }
  const out = execFileSync(python(), ['test/python/duplication_reference.py'], {
    input: JSON.stringify({model: modelDir, rows, sequences: soft.map((p) => p.layers), merged: merged.map((m) => m.dir)}),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'ignore'],
  })
  const refs = JSON.parse(out) as Reference[]
  let worst = 0
  for (const m of merged) {
    const point = soft.find((p) => p.added === m.added)
    const got = point?.alphaGrid?.find((g) => g.alpha === m.alpha)
    const ref = refs.find((r) => r.merged === m.dir)
    assert.ok(got && ref, `${name} +${m.added} α ${m.alpha}: measured and referenced`)
    for (const key of ['kl', 'loss'] as const) {
      const d = Math.abs(got[key] - ref[key])
      worst = Math.max(worst, d)
      assert.ok(d <= 1e-4, `${name} +${m.added} α ${m.alpha}: ${key} ${got[key]} (zero-copy) vs ${ref[key]} (merged, transformers)`)
    }
    assert.ok(Math.abs(got.top1 - ref.top1) <= 1 / curve.tokens + 1e-12, `${name} +${m.added} α ${m.alpha}: top-1 ${got.top1} vs ${ref.top1}`)
  }
  process.stdout.write(`# ${name}: worst |zero-copy - merged in transformers| over KL and loss: ${worst.toExponential(2)}\n`)
  for (const p of soft) {
    const zero = p.alphaGrid?.find((g) => g.alpha === 0)
    const id = identity.find((q) => q.added === p.added)
    assert.ok(zero && id)
    // α = 0: the identity point, exactly (its copy's residual contribution is 0, not merely small)
    assert.equal(zero.kl, 0)
    assert.equal(zero.lossDelta, id.lossDelta)
    assert.ok(Math.abs(zero.loss - curve.baseLoss) < 1e-12, `${zero.loss} vs ${curve.baseLoss}`)
    assert.equal(zero.top1, id.top1)
    // α = 1: the plain copy (transformers running the layer sequence with shared modules)
    const one = p.alphaGrid?.find((g) => g.alpha === 1)
    const plain = refs.find((r) => r.layers?.join(',') === p.layers.join(','))
    assert.ok(one && plain)
    assert.ok(Math.abs(one.kl - plain.kl) < 1e-5 && Math.abs(one.loss - plain.loss) < 1e-5, `${name} +${p.added} α 1: ${one.kl}/${one.loss} vs plain ${plain.kl}/${plain.loss}`)
  }
  return curve
}

describe('soft copies measured zero-copy == the merged YAML in transformers', () => {
  it('stories260K (and the store keeps each point\'s α for plan --from-db)', async () => {
    const curve = await checkFamily(STORIES, 'stories', [0, 0.25, 0.5, 0.75, 1])
    const store = {dbPath: join(WORK, 'soft.duckdb'), model: 'stories', data: 'd'}
    await recordCurve({...store, report: curve})
    for (const p of curve.points.filter((q) => q.strategy === 'soft')) {
      const found = await findCurvePoint({...store, strategy: 'soft', added: p.added})
      assert.equal(found?.alpha, p.alpha)
      assert.deepEqual(found?.layers, p.layers)
    }
    assert.equal((await findCurvePoint({...store, strategy: 'identity', added: 1}))?.alpha, undefined)
  })

  it('gpt2 (Conv1D projections with biases: c_proj filter)', async () => {
    await checkFamily(join(GENERATED, 'gpt2'), 'gpt2', [0, 0.3, 1])
  })

  it('gemma2 (post-branch norms: the scale applies before them)', async () => {
    await checkFamily(join(GENERATED, 'gemma2'), 'gemma2', [0, 0.6, 1])
  })
})

describe('soft plan YAML', () => {
  it('states α on every copy\'s output projections, and 1 on a plain soft copy', async () => {
    const model = await modelOf({modelDir: STORIES})
    const yaml = toYaml(layerSequenceToConfig({model: 'm', layers: [0, 1, 1, 2], copyScale: 0.75, arch: model.arch}))
    assert.match(yaml, /layer_range: \[1, 2\]\n {4}parameters:\n {6}scale:\n {6}- filter: self_attn\.o_proj\n {8}value: 0\.75\n {6}- filter: mlp\.down_proj\n {8}value: 0\.75\n/)
    assert.equal((yaml.match(/scale:/g) ?? []).length, 1)
    const plain = toYaml(layerSequenceToConfig({model: 'm', layers: [0, 1, 1, 2], copyScale: 1, arch: model.arch}))
    assert.equal((plain.match(/value: 1\n/g) ?? []).length, 2)
  })

  it('--format peft refuses soft copies below α 1 (PEFT shares the copies\' weights), in one line', () => {
    const params = {format: 'peft' as const, layers: [0, 1, 1, 2], yaml: '', model: 'm', identityCopies: false}
    assert.throws(() => renderPlanFormat({...params, copyScale: 0.5}), (e: unknown) => e instanceof UsageError && /cannot scale their output projections by α 0\.5/.test(e.message) && !e.message.includes('\n'))
    assert.match(renderPlanFormat({...params, copyScale: 1}), /"layer_replication"/)
  })
})
