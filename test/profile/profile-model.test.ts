import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'
import {loadTexts} from '../../src/data/load-texts.js'
import {profileModel} from '../../src/profile/profile-model.js'
import type {ProfileResult} from '../../src/profile/profile-model.js'
import {dlecCorrectedRule, dlecOriginalRule, DEFAULT_BINS} from '../../src/scoring/dlec-rule.js'
import {layerScores} from '../../src/scoring/layer-score.js'
import {openStore} from '../../src/store/open-store.js'
import {findRun} from '../../src/store/runs.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {ROOT, STORIES, python} from '../helpers/cli.js'
import {assertScoresMatch} from '../helpers/layer-scores.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-profile-'))
const dbPath = join(dir, 'p.duckdb')
const cacheDir = join(dir, 'cache')
const MAX_TOKENS = 48

describe('profileModel on stories260K', () => {
  let result: ProfileResult
  let texts: string[]
  before(async () => {
    texts = await loadTexts({path: join(ROOT, 'fixtures/calibration/stories.txt'), maxSamples: 10})
    result = await profileModel({modelDir: STORIES, cacheDir, dbPath, texts, dataSource: 'stories.txt', maxTokens: MAX_TOKENS, batchSize: 3, raw: {kind: 'first-token'}, name: 'ref'})
  })

  it('stores one row per sample and layer, blocks up to the end, neuron stats per point', () => {
    assert.equal(result.samples, 10)
    assert.deepEqual(result.rows, {layerStats: 10 * 5, blockStats: 10 * (5 + 4 + 3 + 2 + 1), neuronStats: 6 * 64, activations: 10 * 7 * 64})
  })

  it('scores from SQL equal numpy over transformers hidden states to 1e-6', async () => {
    const tokenizer = loadTokenizer(STORIES)
    const rows = texts.map((t) => tokenizer.encode(t).slice(0, MAX_TOKENS))
    const ref = JSON.parse(execFileSync(python(), [join(ROOT, 'test/python/layer_scores_reference.py')], {input: JSON.stringify({model: STORIES, rows})}).toString()) as {
      bi: number[]
      angular: Array<Array<number | null>>
      growth: number[]
      neurons: {count: number; sum: number[][]; sum_sq: number[][]; sum_abs: number[][]; max_abs: number[][]}
    }
    const db = await openStore({path: dbPath, readOnly: true})
    try {
      const scores = await layerScores(db, await findRun(db, 'ref'))
      assert.equal(scores.length, 5)
      assertScoresMatch(scores, ref)
      assert.ok(scores.some((s) => s.blockInfluence > 0.05), 'layers do change the residual stream')
      const neurons = await db.all('SELECT point, neuron, count, sum, sum_sq, sum_abs, max_abs FROM neuron_stats WHERE run_id = 1 ORDER BY point, neuron')
      assert.equal(neurons.length, 6 * 64)
      let worst = 0
      for (const r of neurons) {
        const [k, j] = [Number(r.point), Number(r.neuron)]
        assert.equal(r.count, ref.neurons.count)
        for (const key of ['sum', 'sum_sq', 'sum_abs', 'max_abs'] as const) {
          const want = ref.neurons[key][k]?.[j] as number
          const err = Math.abs(Number(r[key]) - want) / Math.max(1, Math.abs(want))
          worst = Math.max(worst, err)
        }
      }
      assert.ok(worst < 1e-4, `neuron statistics within 1e-4 (relative) of numpy: worst ${worst}`)
    } finally {
      db.close()
    }
  })

  it('the original DLEC rule on stored activations matches a torch re-implementation of its function', async () => {
    const db = await openStore({path: dbPath, readOnly: true})
    try {
      const run = await findRun(db, 'ref')
      const rule = await dlecOriginalRule(db, run)
      const rows = await db.all(
        `SELECT CASE WHEN point = 6 THEN 5 ELSE point END AS label, value FROM activations WHERE run_id = $1 AND point <> 5 ORDER BY point, sample, neuron`,
        [run.runId],
      )
      const values = new Float32Array(rows.map((r) => Number(r.value)))
      const labels = new Int32Array(rows.map((r) => Number(r.label)))
      writeFileSync(join(dir, 'values.f32'), values)
      writeFileSync(join(dir, 'labels.i32'), labels)
      const ref = JSON.parse(
        execFileSync(python(), [join(ROOT, 'test/python/dlec_rule_reference.py'), join(dir, 'values.f32'), join(dir, 'labels.i32'), String(DEFAULT_BINS)]).toString(),
      ) as Array<{label: number; q: number; fraction: number; beneficial: boolean}>
      assert.deepEqual(rule.rows.map((r) => r.label), [0, 1, 2, 3, 4, 5])
      assert.deepEqual(rule.beneficial, ref.filter((r) => r.beneficial).map((r) => r.label))
      for (const [i, r] of ref.entries()) {
        assert.ok(Math.abs((rule.rows[i]?.threshold ?? -1) - r.q) < 1e-12, `q of label ${r.label}`)
        assert.ok(Math.abs((rule.rows[i]?.fraction ?? -1) - r.fraction) < 1e-6, `fraction of label ${r.label}`)
      }
    } finally {
      db.close()
    }
  })

  it('the corrected rule (block ids, positions >= 1, mean + 2 std) matches numpy on the same activations', async () => {
    const sampled = await profileModel({modelDir: STORIES, cacheDir, dbPath, texts, dataSource: 'stories.txt', maxTokens: MAX_TOKENS, batchSize: 4, raw: {kind: 'sample', k: 5}, name: 'sampled'})
    assert.equal(sampled.rows.activations, 10 * 5 * 7 * 64)
    const db = await openStore({path: dbPath, readOnly: true})
    try {
      const run = await findRun(db, 'sampled')
      const rule = await dlecCorrectedRule(db, run)
      const rows = await db.all(`SELECT point - 1 AS label, value FROM activations WHERE run_id = $1 AND point BETWEEN 1 AND 5 AND position >= 1 ORDER BY point, sample, position, neuron`, [run.runId])
      writeFileSync(join(dir, 'cvalues.f32'), new Float32Array(rows.map((r) => Number(r.value))))
      writeFileSync(join(dir, 'clabels.i32'), new Int32Array(rows.map((r) => Number(r.label))))
      const ref = JSON.parse(
        execFileSync(python(), [join(ROOT, 'test/python/dlec_rule_reference.py'), join(dir, 'cvalues.f32'), join(dir, 'clabels.i32'), '1', 'corrected']).toString(),
      ) as Array<{label: number; q: number; fraction: number; beneficial: boolean}>
      assert.deepEqual(rule.rows.map((r) => r.label), [0, 1, 2, 3, 4])
      assert.deepEqual(rule.beneficial, ref.filter((r) => r.beneficial).map((r) => r.label))
      for (const [i, r] of ref.entries()) {
        assert.ok(Math.abs((rule.rows[i]?.threshold ?? -1) - r.q) < 1e-9, `threshold of label ${r.label}`)
        assert.ok(Math.abs((rule.rows[i]?.fraction ?? -1) - r.fraction) < 1e-12, `fraction of label ${r.label}`)
      }
    } finally {
      db.close()
    }
  })
})
