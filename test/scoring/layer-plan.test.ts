import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {UsageError} from '../../src/errors.js'
import {
  addedLayers,
  commonPrefixLength,
  expandLayers,
  formatDuplications,
  formatLayerSequence,
  makeLayerPlan,
} from '../../src/curve/layer-plan.js'

describe('layer plans', () => {
  it('duplicating block [i, j) is RYS configuration (i, j): layers 0..j-1 then i..N-1', () => {
    const n = 10
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j <= n; j++) {
        const rys = [...Array.from({length: j}, (_, k) => k), ...Array.from({length: n - i}, (_, k) => i + k)]
        assert.deepEqual(expandLayers(n, [{start: i, end: j}]), rys, `[${i}, ${j})`)
      }
    }
  })

  it('composes several blocks; the phi-2-DLEC duplicates give its published 38-layer sequence', () => {
    const seams = [7, 11, 15, 19, 23, 27]
    const layers = expandLayers(
      32,
      seams.map((l) => ({start: l, end: l + 1})),
    )
    // [0,8] [7,12] [11,16] [15,20] [19,24] [23,28] [27,32] (literature.md §1), written out by hand
    const published = [
      [0, 8],
      [7, 12],
      [11, 16],
      [15, 20],
      [19, 24],
      [23, 28],
      [27, 32],
    ].flatMap(([a, b]) => Array.from({length: (b as number) - (a as number)}, (_, k) => (a as number) + k))
    assert.deepEqual(layers, published)
    assert.equal(layers.length, 38)
  })

  it('two copies of the same layer, and overlapping blocks', () => {
    assert.deepEqual(expandLayers(5, [{start: 3, end: 4}, {start: 3, end: 4}]), [0, 1, 2, 3, 3, 3, 4])
    assert.deepEqual(expandLayers(5, [{start: 1, end: 3}, {start: 2, end: 4}]), [0, 1, 2, 1, 2, 3, 2, 3, 4])
    assert.equal(addedLayers([{start: 1, end: 3}, {start: 2, end: 4}]), 4)
  })

  it('rejects blocks outside the model or empty, naming the block', () => {
    assert.throws(() => expandLayers(5, [{start: 4, end: 6}]), (e: unknown) => e instanceof UsageError && /\[4, 6\)/.test(e.message))
    assert.throws(() => expandLayers(5, [{start: 2, end: 2}]), UsageError)
    assert.throws(() => expandLayers(5, [{start: -1, end: 1}]), UsageError)
    assert.throws(() => expandLayers(0, []), UsageError)
  })

  it('labels and prefixes', () => {
    const plan = makeLayerPlan({numLayers: 5, duplications: [{start: 3, end: 4}, {start: 1, end: 3}]})
    assert.deepEqual(plan.layers, [0, 1, 2, 1, 2, 3, 3, 4])
    assert.equal(formatDuplications(plan.duplications), '3+[1,3)')
    assert.equal(formatDuplications([]), 'original')
    assert.equal(formatLayerSequence(plan.layers), '0-2,1-3,3-4')
    assert.equal(commonPrefixLength(plan.layers, [0, 1, 2, 3, 4]), 3)
  })
})
