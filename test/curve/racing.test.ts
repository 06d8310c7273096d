import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {seededRandom, type RowSums} from '../../src/eval/bootstrap.js'
import {raceCandidates, raceStages} from '../../src/curve/racing.js'
import {drain} from '../helpers/hostile.js'

/** Synthetic candidates: per-row KL = mean + shared row noise + own noise, 10 tokens a row. */
function synthetic(means: number[], rows: number, seed: number): RowSums[] {
  const random = seededRandom(seed)
  const shared = Array.from({length: rows}, () => random() - 0.5)
  return means.map((m) => {
    const kl = shared.map((s) => 10 * Math.max(0, m + 0.2 * s + 0.02 * (random() - 0.5)))
    return {tokens: kl.map(() => 10), kl, nll: kl, dLoss: kl, agree: kl.map(() => 5)}
  })
}

describe('racing (successive halving)', () => {
  it('stages start at an eighth of the rows (at least 8, whole batches) and double up to all rows', () => {
    const boundaries = Array.from({length: 25}, (_, i) => 4 * (i + 1))
    assert.deepEqual(raceStages(boundaries), [16, 32, 64, 100])
    assert.deepEqual(raceStages([4, 8, 12, 16, 20]), [8, 16, 20])
    assert.deepEqual(raceStages([3]), [3])
  })

  it('keeps the best, measures it on all rows, and spends fewer rows on the clearly worse', async () => {
    const means = [0.5, 0.31, 0.3, 0.9, 0.7, 0.6, 0.8, 0.45]
    const rows = 96
    const truth = synthetic(means, rows, 7)
    const boundaries = Array.from({length: rows / 4}, (_, i) => 4 * (i + 1))
    const measured = new Array<number>(means.length).fill(0)
    const result = await drain(
      raceCandidates({
        count: means.length,
        keep: 2,
        boundaries,
        metric: 'kl',
        extend: async (i, to) => {
          measured[i] = Math.max(measured[i] as number, to)
          const t = truth[i] as RowSums
          return {tokens: t.tokens.slice(0, to), kl: t.kl.slice(0, to), nll: t.nll.slice(0, to), dLoss: t.dLoss.slice(0, to), agree: t.agree.slice(0, to)}
        },
      }),
    )
    assert.ok(result.survivors.includes(2), 'the best (mean 0.30) survives')
    assert.ok(result.survivors.includes(1), 'the close runner-up (0.31) is not clearly worse')
    assert.equal(measured[2], rows)
    for (const i of [3, 4, 6]) {
      assert.ok(!result.survivors.includes(i) && (measured[i] as number) < rows, `candidate ${i} (mean ${means[i]}) dropped early at ${measured[i]} rows`)
    }
    assert.ok(measured.reduce((a, b) => a + b, 0) < 0.5 * rows * means.length)
  })
})
