import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {meanInterval, pairedDifferenceInterval, percentileInterval, resamplePlan, rowMean, seededRandom, type RowSums} from '../../src/eval/bootstrap.js'

/**
 * Rows of synthetic per-token KL values with a known per-token mean: row lengths 20..200, row means
 * ~ Gamma(8, mean / 8) (rows differ, as texts do), token values ~ Exp(row mean) (skewed, as KL is).
 */
function syntheticRows(random: () => number, n: number, mean: number): {sums: RowSums; perToken: number[][]} {
  const exp = (m: number): number => -m * Math.log(1 - random())
  const sums: RowSums = {tokens: [], kl: [], nll: [], dLoss: [], agree: []}
  const perToken: number[][] = []
  for (let r = 0; r < n; r++) {
    const len = 20 + Math.floor(random() * 181)
    let rowMean = 0
    for (let k = 0; k < 8; k++) {
      rowMean += exp(mean / 8)
    }
    const values = Array.from({length: len}, () => exp(rowMean))
    perToken.push(values)
    sums.tokens.push(len)
    sums.kl.push(values.reduce((a, b) => a + b, 0))
    sums.nll.push(0)
    sums.dLoss.push(0)
    sums.agree.push(len)
  }
  return {sums, perToken}
}

describe('bootstrap intervals', () => {
  it('cover the known mean of synthetic per-token KL values about 95% of the time (seeded simulation)', () => {
    const random = seededRandom(12345)
    const trials = 400
    const mean = 0.1
    let covered = 0
    for (let t = 0; t < trials; t++) {
      const {sums} = syntheticRows(random, 60, mean)
      const ci = meanInterval(sums, 'kl', resamplePlan(60, {resamples: 400, seed: t}))
      assert.ok(ci[0] <= rowMean(sums, 'kl') && rowMean(sums, 'kl') <= ci[1])
      if (ci[0] <= mean && mean <= ci[1]) {
        covered++
      }
    }
    const coverage = covered / trials
    // binomial standard error at 95% over 400 trials: 1.1 points; the bounds are 3 of them
    assert.ok(coverage > 0.917 && coverage < 0.983, `coverage ${coverage}`)
  })

  it('resampling tokens instead of rows ignores the rows and covers far less (why rows are the unit)', () => {
    const random = seededRandom(7)
    let covered = 0
    const trials = 100
    for (let t = 0; t < trials; t++) {
      const {perToken} = syntheticRows(random, 60, 0.1)
      const flat = perToken.flat()
      const asRows: RowSums = {tokens: flat.map(() => 1), kl: flat, nll: flat.map(() => 0), dLoss: flat.map(() => 0), agree: flat.map(() => 1)}
      const ci = meanInterval(asRows, 'kl', resamplePlan(flat.length, {resamples: 100, seed: t}))
      if (ci[0] <= 0.1 && 0.1 <= ci[1]) {
        covered++
      }
    }
    assert.ok(covered / trials < 0.7, `token-level coverage ${covered / trials}`)
  })

  it('pairs candidates: a constant per-token shift has an exact difference interval while the two intervals overlap', () => {
    const {sums: a} = syntheticRows(seededRandom(3), 40, 0.2)
    const delta = 0.004
    const b: RowSums = {...a, kl: a.kl.map((k, r) => k + delta * (a.tokens[r] as number))}
    const plan = resamplePlan(40, {seed: 9})
    const ia = meanInterval(a, 'kl', plan)
    const ib = meanInterval(b, 'kl', plan)
    assert.ok(ib[0] < ia[1], 'the unpaired intervals overlap')
    const d = pairedDifferenceInterval(b, a, 'kl', plan)
    assert.ok(Math.abs(d[0] - delta) < 1e-12 && Math.abs(d[1] - delta) < 1e-12, `paired ${d}`)
    assert.ok(d[0] > 0, 'b is clearly worse')
  })

  it('is seeded: the same rows, resamples and seed give the same draws; another seed others', () => {
    const p = resamplePlan(30, {resamples: 50, seed: 1})
    const q = resamplePlan(30, {resamples: 50, seed: 1})
    const r = resamplePlan(30, {resamples: 50, seed: 2})
    assert.deepEqual(p.counts, q.counts)
    assert.notDeepEqual(p.counts, r.counts)
    for (const c of p.counts) {
      assert.equal(
        c.reduce((s, x) => s + x, 0),
        30,
      )
    }
  })

  it('takes linear-interpolation percentiles (numpy default)', () => {
    const values = Array.from({length: 101}, (_, i) => 100 - i)
    const [lo, hi] = percentileInterval(values, 0.95)
    assert.ok(Math.abs(lo - 2.5) < 1e-12 && Math.abs(hi - 97.5) < 1e-12, `${lo} ${hi}`)
    assert.deepEqual(percentileInterval([1, 2], 0.5), [1.25, 1.75])
  })
})

describe('Wilson and Newcombe intervals (probe accuracy)', () => {
  it('solve the score equation at both bounds and contain the estimate', async () => {
    const {wilsonInterval, proportionDifferenceInterval} = await import('../../src/eval/probe.js')
    const z = 1.959963984540054
    for (const [k, n] of [[3, 10], [17, 20], [0, 10], [10, 10]] as const) {
      const [lo, hi] = wilsonInterval(k, n)
      const p = k / n
      assert.ok(lo <= p && p <= hi)
      for (const b of [lo, hi]) {
        if (b > 0 && b < 1) {
          assert.ok(Math.abs((p - b) ** 2 - (z * z * b * (1 - b)) / n) < 1e-12)
        }
      }
    }
    assert.deepEqual(wilsonInterval(0, 10).map((x) => Number(x.toFixed(6))), [0, 0.277533])
    const d = proportionDifferenceInterval({successes: 15, n: 20}, {successes: 10, n: 20})
    assert.ok(d[0] < 0.25 && 0.25 < d[1])
  })
})
