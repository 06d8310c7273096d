import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {measureCurve} from '../../src/curve/measure-curve.js'
import {tokenWindows} from '../../src/eval/token-windows.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {python, STORIES} from '../helpers/cli.js'

const TEXTS = readFileSync(new URL('heldout.txt', import.meta.url), 'utf8').split(/\n\s*\n/)
const CACHE = mkdtempSync(join(tmpdir(), 'dlec-curve-'))

interface Reference {
  layers: number[]
  kl: number
  loss: number
  top1: number
}

function reference(sequences: number[][]): Reference[] {
  const rows = tokenWindows({tokenizer: loadTokenizer(STORIES), texts: TEXTS, windowSize: 512}).rows
  const out = execFileSync(python(), ['test/python/duplication_reference.py'], {input: JSON.stringify({model: STORIES, rows, sequences}), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore']})
  return JSON.parse(out) as Reference[]
}

describe('the measured curve on stories260K', () => {
  it("greedy's first pick is the lowest-KL single-layer duplication of all (transformers brute force)", async () => {
    const curve = await measureCurve({modelDir: STORIES, cacheDir: CACHE, texts: TEXTS, strategies: ['greedy'], maxAdd: 2, candidates: 'all', blockSizes: [1]})
    const singles = [0, 1, 2, 3, 4].map((l) => [...[0, 1, 2, 3, 4].slice(0, l + 1), l, ...[0, 1, 2, 3, 4].slice(l + 1)])
    const ref = reference(singles)
    const best = ref.reduce((a, b) => (b.kl < a.kl ? b : a))
    const first = curve.points[0]
    assert.deepEqual(first?.layers, best.layers)
    // every single-layer candidate greedy measured agrees with transformers
    for (const r of ref) {
      const e = curve.evaluations.find((x) => x.layers.join(',') === r.layers.join(','))
      assert.ok(e, `measured ${r.layers.join(',')}`)
      assert.ok(Math.abs(e.measurement.kl - r.kl) < 1e-5, `kl ${r.layers}: ${e.measurement.kl} vs ${r.kl}`)
      assert.ok(Math.abs(e.measurement.loss - r.loss) < 1e-5, `loss ${r.layers}: ${e.measurement.loss} vs ${r.loss}`)
      assert.ok(Math.abs(e.measurement.top1 - r.top1) < 1e-9, `top1 ${r.layers}`)
    }
    assert.equal(curve.points.length, 2)
    assert.equal(curve.points[1]?.added, 2)
    assert.equal(curve.points[1]?.params, 260_032 + 2 * 45_440)
  })

  it('prefix caching gives the naive full-forward numbers while running fewer layers', async () => {
    const common = {modelDir: STORIES, cacheDir: CACHE, texts: TEXTS, strategies: ['greedy' as const, 'curve' as const], maxAdd: 2, candidates: 'all' as const, blockSizes: [1, 2]}
    const cached = await measureCurve(common)
    const naive = await measureCurve({...common, prefixCache: false})
    assert.equal(cached.evaluations.length, naive.evaluations.length)
    for (const [i, e] of cached.evaluations.entries()) {
      const n = naive.evaluations[i]
      assert.deepEqual(e.layers, n?.layers)
      assert.ok(Math.abs(e.measurement.kl - (n?.measurement.kl ?? NaN)) < 1e-7)
      assert.ok(Math.abs(e.measurement.loss - (n?.measurement.loss ?? NaN)) < 1e-7)
    }
    assert.ok(cached.layersRun < 0.75 * naive.layersRun, `${cached.layersRun} vs ${naive.layersRun}`)
  })

  it('a byte budget on the prefix cache changes only the work: the same curve, more layer runs', async () => {
    const common = {modelDir: STORIES, cacheDir: CACHE, texts: TEXTS, strategies: ['greedy' as const, 'curve' as const], maxAdd: 3, candidates: 'all' as const, blockSizes: [1, 2], beamWidth: 2}
    const unlimited = await measureCurve({...common, cacheBytes: Number.POSITIVE_INFINITY})
    const strip = (c: typeof unlimited): unknown => ({
      evaluations: c.evaluations.map((e) => ({layers: e.layers, ...e.measurement})),
      points: c.points.map((p) => ({layers: p.layers, kl: p.kl, loss: p.loss, top1: p.top1})),
    })
    // 0: only h_0 kept; 300 kB: the original's first states only; 1 MB: the original, remembered expansions evicted
    let previous = unlimited.layersRun
    for (const cacheBytes of [1_000_000, 300_000, 0]) {
      const limited = await measureCurve({...common, cacheBytes})
      assert.deepEqual(strip(limited), strip(unlimited), `cacheBytes ${cacheBytes}: the same measurements`)
      assert.ok(limited.layersRun > previous, `cacheBytes ${cacheBytes}: ${limited.layersRun} layer runs, more than ${previous}`)
      previous = limited.layersRun
    }
  })
})
