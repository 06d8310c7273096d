import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {dataHash, loadReusable, measurementOptions, recordCandidates} from '../../src/curve/curve-store.js'
import type {EvaluatedCandidate} from '../../src/curve/expansion-curve.js'
import {measureCurve, measureCurveIter} from '../../src/curve/measure-curve.js'
import {loadTexts} from '../../src/data/load-texts.js'
import {InterruptedError} from '../../src/errors.js'
import {listEvals} from '../../src/store/evals.js'
import {openStore} from '../../src/store/open-store.js'
import {tokenWindows} from '../../src/eval/token-windows.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {FAMILIES} from '../helpers/families.js'
import {dlec, GENERATED, python, ROOT, STORIES} from '../helpers/cli.js'

const DATA = join(ROOT, 'fixtures', 'calibration', 'stories.txt')
const CACHE = mkdtempSync(join(tmpdir(), 'dlec-trust-'))
const TEXTS = await loadTexts({path: DATA})
const common = {modelDir: STORIES, cacheDir: CACHE, strategies: ['greedy' as const], maxAdd: 2, candidates: 'all' as const, blockSizes: [1]}
const width = (c: readonly [number, number] | undefined): number => (c === undefined ? Number.NaN : c[1] - c[0])

describe('confidence intervals of the curve on stories260K', () => {
  it("every point's KL interval contains its estimate; twice the data narrows it by about 1/√2; numpy float64 agrees", async () => {
    const full = await measureCurve({...common, texts: TEXTS})
    assert.ok(full.points.length === 2)
    for (const p of full.points) {
      assert.ok(p.klCi && p.lossDeltaCi && p.top1Ci, `point +${p.added} carries intervals`)
      assert.ok(p.klCi[0] <= p.kl && p.kl <= p.klCi[1], `KL ${p.kl} in [${p.klCi.join(', ')}]`)
      assert.ok(p.lossDeltaCi[0] <= p.lossDelta && p.lossDelta <= p.lossDeltaCi[1])
      assert.ok(p.top1Ci[0] <= p.top1 && p.top1 <= p.top1Ci[1])
    }
    for (const e of full.evaluations.filter((x) => x.measurement.tokens === full.tokens)) {
      const ci = e.measurement.klCi
      assert.ok(ci && ci[0] <= e.measurement.kl && e.measurement.kl <= ci[1], `candidate ${e.layers.join(',')}`)
    }
    const first = full.points[0]
    assert.ok(first)
    // half the texts: the same sequence's interval is wider by about √2
    const half = await measureCurve({...common, texts: TEXTS.slice(0, Math.floor(TEXTS.length / 2)), racing: false, maxAdd: 1})
    const same = half.evaluations.find((e) => e.layers.join(',') === first.layers.join(','))
    assert.ok(same)
    const ratio = width(first.klCi) / width(same.measurement.klCi)
    assert.ok(ratio > 0.55 && ratio < 0.85, `width(all)/width(half) = ${ratio.toFixed(3)} (${full.rowCount} vs ${half.rowCount} rows)`)
    // the independent reference: transformers' logits, numpy float64 KL, on the same windows
    const rows = tokenWindows({tokenizer: loadTokenizer(STORIES), texts: TEXTS, windowSize: 512}).rows
    const ref = JSON.parse(execFileSync(python(), ['test/python/kl_numpy_reference.py'], {input: JSON.stringify({model: STORIES, rows, layers: first.layers}), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore']})) as {kl: number}
    assert.ok(Math.abs(ref.kl - first.kl) < 1e-4, `numpy ${ref.kl} vs dlec ${first.kl}`)
    assert.ok(first.klCi && first.klCi[0] <= ref.kl && ref.kl <= first.klCi[1], `numpy ${ref.kl} in [${first.klCi?.join(', ')}]`)
  })
})

describe('racing', () => {
  it('picks what the full sweep picks on stories260K, with fewer layer runs, and the pick carries the full-sweep numbers', async () => {
    const params = {...common, texts: TEXTS, windowSize: 64, maxAdd: 3}
    const raced = await measureCurve(params)
    const full = await measureCurve({...params, racing: false})
    assert.deepEqual(
      raced.points.map((p) => p.layers),
      full.points.map((p) => p.layers),
    )
    for (const [i, p] of raced.points.entries()) {
      const f = full.points[i]
      assert.equal(p.kl, f?.kl)
      assert.deepEqual(p.klCi, f?.klCi)
    }
    assert.ok(raced.racing.dropped > 0, `racing dropped ${raced.racing.dropped} candidates`)
    assert.ok(raced.layersRun < full.layersRun, `${raced.layersRun} vs ${full.layersRun} layer runs`)
    assert.equal(full.racing.enabled, false)
  })

  for (const family of FAMILIES) {
    it(`picks what the full sweep picks on the generated ${family}`, async () => {
      const params = {modelDir: join(GENERATED, family), cacheDir: CACHE, texts: TEXTS, windowSize: 32, strategies: ['greedy' as const], maxAdd: 2, candidates: 'all' as const, blockSizes: [1, 2]}
      const raced = await measureCurve(params)
      const full = await measureCurve({...params, racing: false})
      assert.deepEqual(
        raced.points.map((p) => p.layers),
        full.points.map((p) => p.layers),
      )
      assert.deepEqual(
        raced.points.map((p) => p.kl),
        full.points.map((p) => p.kl),
      )
    })
  }
})

describe('stored curves', () => {
  it('`curve --from-db` prints the measured run\'s table without measuring', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'dlec-trust-db-')), 'c.duckdb')
    const args = [STORIES, '--db', db, '--cache-dir', CACHE]
    const measured = await dlec(['curve', ...args, '--data', DATA, '--max-add', '2', '--strategy', 'greedy,curve,identity'])
    assert.equal(measured.code, 0, measured.stderr)
    const redrawn = await dlec(['curve', ...args, '--from-db', '--plot', join(tmpdir(), `dlec-trust-${process.pid}.svg`)])
    assert.equal(redrawn.code, 0, redrawn.stderr)
    const table = (out: string): string[] => {
      const lines = out.split('\n')
      const start = lines.findIndex((l) => l.startsWith('original:'))
      const end = lines.findIndex((l) => l.startsWith('racing'))
      return lines.slice(start, end + 1)
    }
    assert.ok(table(measured.stdout).length > 5)
    assert.deepEqual(table(redrawn.stdout), table(measured.stdout))
    assert.match(redrawn.stdout, /nothing measured/)
    // the intervals are in the evals columns, for every point measured and every candidate measured on all rows
    const store = await openStore({path: db, readOnly: true})
    const evals = await listEvals(store)
    store.close()
    const full = evals.filter((e) => e.extra?.kind === 'candidate' && e.tokens === 2394)
    assert.ok(full.length > 0)
    for (const e of [...full, ...evals.filter((x) => x.extra?.kind === 'point' && x.extra.measured === true)]) {
      assert.ok(e.klCi && e.lossDeltaCi && e.top1Ci && e.klCi[0] <= (e.kl as number) && (e.kl as number) <= e.klCi[1], `${e.strategy} ${e.layers.join(',')}`)
    }
    const none = await dlec(['curve', join(GENERATED, 'llama'), '--db', db, '--from-db'])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /no stored curve/)
  })

  it('an interrupted curve keeps its candidates and a rerun reuses them, with the same numbers', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'dlec-trust-db-')), 'c.duckdb')
    const params = {...common, texts: TEXTS, maxAdd: 2, racing: false}
    const options = measurementOptions({})
    const store = {dbPath: db, model: STORIES.replace(/\/$/, ''), data: dataHash(TEXTS), options}
    const controller = new AbortController()
    const kept: EvaluatedCandidate[] = []
    const it = measureCurveIter({...params, signal: controller.signal})
    await assert.rejects(async () => {
      for (;;) {
        const r = await it.next()
        if (r.done === true) {
          break
        }
        if (r.value.type === 'evaluated') {
          kept.push(r.value.candidate)
          if (kept.length === 3) {
            controller.abort()
          }
        }
      }
    }, InterruptedError)
    assert.equal(await recordCandidates({...store, candidates: kept}), 3)
    const reuse = await loadReusable(store)
    assert.equal(reuse.size, 3)
    const rerun = await measureCurve({...params, reuse})
    const fresh = await measureCurve(params)
    assert.equal(rerun.reused, 3)
    assert.ok(rerun.layersRun < fresh.layersRun, `${rerun.layersRun} vs ${fresh.layersRun} layer runs`)
    assert.deepEqual(
      rerun.points.map((p) => [p.layers, p.kl, p.klCi]),
      fresh.points.map((p) => [p.layers, p.kl, p.klCi]),
    )
  })
})
