import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {argmax, pickToken, samplingProbabilities, seededRandom} from '../../src/generate/pick-token.js'

// logits ln 1 .. ln 4: softmax is exactly [1, 2, 3, 4] / 10; at temperature 0.5 the weights square.
const logits = Float32Array.from([1, 2, 3, 4].map(Math.log))
const close = (a: ArrayLike<number>, b: number[], tol: number): void => {
  b.forEach((x, i) => assert.ok(Math.abs((a[i] as number) - x) < tol, `p[${i}] = ${a[i]}, expected ${x}`))
}

describe('pickToken', () => {
  it('probabilities: softmax(logits / T) over the top k, hand-computed', () => {
    close(samplingProbabilities(logits, 1), [0.1, 0.2, 0.3, 0.4], 1e-6)
    close(samplingProbabilities(logits, 0.5), [1 / 30, 4 / 30, 9 / 30, 16 / 30], 1e-6)
    close(samplingProbabilities(logits, 1, 2), [0, 0, 3 / 7, 4 / 7], 1e-6)
    close(samplingProbabilities(Float32Array.from([5, 1, 5, 0]), 1, 1), [0.5, 0, 0.5, 0], 1e-9)
  })
  it('greedy: the highest logit, the first one on ties', () => {
    assert.equal(pickToken(logits, {}, Math.random), 3)
    assert.equal(argmax(Float32Array.from([0, 7, 7, 1])), 1)
  })
  it('draws follow the probabilities (20,000 seeded draws within 0.01)', () => {
    const random = seededRandom(42)
    const counts = [0, 0, 0, 0]
    const n = 20000
    for (let i = 0; i < n; i++) {
      const v = pickToken(logits, {temperature: 0.5}, random)
      counts[v] = (counts[v] as number) + 1
    }
    close(counts.map((c) => c / n), [1 / 30, 4 / 30, 9 / 30, 16 / 30], 0.01)
  })
  it('seededRandom: uniform on [0, 1), reproducible', () => {
    const a = seededRandom(5)
    const b = seededRandom(5)
    const xs = Array.from({length: 1000}, () => a())
    assert.deepEqual(xs.slice(0, 10), Array.from({length: 10}, () => b()))
    assert.ok(xs.every((x) => x >= 0 && x < 1))
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    assert.ok(Math.abs(mean - 0.5) < 0.03)
  })
})
