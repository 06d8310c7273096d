import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {loadTexts} from '../../src/data/load-texts.js'
import {openDecoder, type Decoder} from '../../src/onnx/open-decoder.js'
import {REDUCED_OUTPUT, unpackReduced, type ReducedStats} from '../../src/onnx/profile-reductions.js'
import {profileModel} from '../../src/profile/profile-model.js'
import {layerScores} from '../../src/scoring/layer-score.js'
import {openStore} from '../../src/store/open-store.js'
import {findRun} from '../../src/store/runs.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {GENERATED, ROOT, STORIES, python} from '../helpers/cli.js'
import {assertScoresMatch} from '../helpers/layer-scores.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-reduced-'))
const cacheDir = join(dir, 'cache')

interface Reference {
  bi: number[]
  angular: Array<Array<number | null>>
  growth: number[]
  neurons: {count: number; sum: number[][]; sum_sq: number[][]; sum_abs: number[][]; max_abs: number[][]}
}

/** Profiles without --raw (only reduced tensors leave ONNX Runtime) and compares the store with numpy over transformers' hidden states. */
async function checkAgainstNumpy(model: string, name: string, maxTokens: number): Promise<void> {
  const texts = await loadTexts({path: join(ROOT, 'fixtures/calibration/stories.txt'), maxSamples: 7})
  const dbPath = join(dir, `${name}.duckdb`)
  const result = await profileModel({modelDir: model, cacheDir, dbPath, texts, dataSource: 'stories.txt', maxTokens, batchSize: 3, name})
  assert.equal(result.rows.activations, 0)
  const tokenizer = loadTokenizer(model)
  const rows = texts.map((t) => tokenizer.encode(t).slice(0, maxTokens)).filter((r) => r.length >= 2)
  assert.ok(new Set(rows.map((r) => r.length)).size > 1 || rows.every((r) => r.length === maxTokens), 'rows are ragged or truncated')
  const ref = JSON.parse(execFileSync(python(), [join(ROOT, 'test/python/layer_scores_reference.py')], {input: JSON.stringify({model, rows})}).toString()) as Reference
  const db = await openStore({path: dbPath, readOnly: true})
  try {
    const run = await findRun(db, name)
    const scores = await layerScores(db, run)
    assert.equal(scores.length, ref.bi.length)
    assertScoresMatch(scores, ref)
    const neurons = await db.all('SELECT point, neuron, count, sum, sum_sq, sum_abs, max_abs FROM neuron_stats WHERE run_id = $1 ORDER BY point, neuron', [run.runId])
    assert.equal(neurons.length, (ref.bi.length + 1) * (ref.neurons.sum[0]?.length ?? 0))
    let worst = 0
    for (const r of neurons) {
      const [k, j] = [Number(r.point), Number(r.neuron)]
      assert.equal(Number(r.count), ref.neurons.count)
      for (const key of ['sum', 'sum_sq', 'sum_abs', 'max_abs'] as const) {
        const want = ref.neurons[key][k]?.[j] as number
        worst = Math.max(worst, Math.abs(Number(r[key]) - want) / Math.max(1, Math.abs(want)))
      }
    }
    assert.ok(worst < 1e-4, `neuron statistics within 1e-4 (relative) of numpy: worst ${worst}`)
  } finally {
    db.close()
  }
}

describe('profile reductions computed in the ONNX graph', () => {
  let dec: Decoder
  before(async () => {
    dec = await openDecoder({modelDir: STORIES, cacheDir})
  })
  after(async () => {
    await dec.release()
  })

  it('return only reduced tensors, whose size does not depend on the sequence length', async () => {
    const layers = [0, 1, 2, 2, 3, 4]
    const sizes = async (lengths: number[]): Promise<Record<string, number[]>> => {
      const inputIds = lengths.map((n) => Array.from({length: n}, (_, t) => 1 + ((t * 37 + n) % 500)))
      const r = await dec.run({inputIds, layers, outputs: {logits: 'none', reduced: {gaps: 8}}})
      return Object.fromEntries(Object.entries(r.outputs).map(([name, t]) => [name, t.dims]))
    }
    const short = await sizes([5, 3])
    const long = await sizes([200, 17])
    assert.deepEqual(long, short)
    // Per state k = 0..6: 2 rows x (1 + 2 min(8, k)) row sums, then 4 x 64 neuron statistics.
    const rowValues = [0, 1, 2, 3, 4, 5, 6].reduce((s, k) => s + 2 * (1 + 2 * Math.min(8, k)), 0)
    assert.deepEqual(short, {[REDUCED_OUTPUT]: [rowValues + 7 * 4 * 64]})
  })

  it('mask padding and position 0: a row alone and beside a longer row give the same sums', async () => {
    const row = [1, 403, 407, 261, 378, 390, 3]
    const longer = Array.from({length: 30}, (_, t) => 1 + ((t * 53) % 500))
    const unpack = async (rows: number[][]): Promise<ReducedStats> => {
      const r = await dec.run({inputIds: rows, outputs: {logits: 'none', reduced: {gaps: 8}}})
      return unpackReduced(r.outputs[REDUCED_OUTPUT]?.data as Float32Array, {batch: rows.length, numLayers: 5, hidden: 64, gaps: 8})
    }
    const alone = await unpack([row])
    const padded = await unpack([row, longer])
    for (const key of ['norm', 'cos', 'angular'] as const) {
      const a = alone[key]
      const b = padded[key]
      for (let i = 0; i < a.length; i++) {
        assert.ok(Math.abs((a[i] as number) - (b[i] as number)) <= 1e-4 * Math.max(1, Math.abs(a[i] as number)), `${key}[${i}]: ${a[i]} vs ${b[i]}`)
      }
    }
    assert.ok(alone.norm.every((x) => x > 0) && alone.cos.every((x) => x > 0 && x <= 6), 'sums over the 6 positions >= 1')
  })

  it('stores the statistics numpy computes on stories260K (no --raw)', async () => {
    await checkAgainstNumpy(STORIES, 'stories', 48)
  })

  it('stores the statistics numpy computes on a generated qwen3 (no --raw)', async () => {
    await checkAgainstNumpy(join(GENERATED, 'qwen3'), 'qwen3', 24)
  })
})
