import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {UsageError} from '../../src/errors.js'
import {candidateBand, candidateBlocks, parseBlockSizes, parseCandidateSpec} from '../../src/curve/candidate-blocks.js'
import {dlecOriginalPlacement, dlecOriginalSeams} from '../../src/curve/dlec-original-strategy.js'
import {identityPlacement} from '../../src/curve/identity-strategy.js'
import {scoreCurvePlacement, weightsFromBlockInfluence} from '../../src/curve/score-curve-strategy.js'
import {spreadEvenly} from '../../src/curve/spread.js'
import {parseStrategies} from '../../src/curve/strategies.js'

const layersOf = (d: {start: number}[]): number[] => d.map((x) => x.start)

describe('placement strategies', () => {
  it('identity: LLaMA-Pro 32 -> 40 copies layers 3, 7, ..., 31 (the paper)', () => {
    assert.deepEqual(layersOf(identityPlacement({numLayers: 32, k: 8})), [3, 7, 11, 15, 19, 23, 27, 31])
    assert.deepEqual(layersOf(identityPlacement({numLayers: 5, k: 1})), [4])
    assert.deepEqual(layersOf(identityPlacement({numLayers: 3, k: 4})), [0, 1, 2, 2])
    assert.ok(identityPlacement({numLayers: 24, k: 5}).every((d) => d.end === d.start + 1))
  })

  it('dlec-original: flagged labels 5..28 (layers 4..27) in chunks of 4 give the published 7, 11, ..., 27', () => {
    const labels = Array.from({length: 24}, (_, i) => i + 5)
    assert.deepEqual(dlecOriginalSeams(labels, 32), [7, 11, 15, 19, 23, 27])
    assert.deepEqual(layersOf(dlecOriginalPlacement({flaggedLabels: labels, numLayers: 32, k: 6})), [7, 11, 15, 19, 23, 27])
    assert.deepEqual(layersOf(dlecOriginalPlacement({flaggedLabels: labels, numLayers: 32, k: 2})), [11, 23])
    // label 0 is the embeddings (not a layer); a last partial chunk still has a last layer
    assert.deepEqual(dlecOriginalSeams([0, 1, 2, 3, 4, 5, 6], 5), [3, 4])
    assert.throws(() => dlecOriginalPlacement({flaggedLabels: [0], numLayers: 5, k: 1}), UsageError)
  })

  it('curve: copies in proportion to the weights inside the band, at most ceil(k/band) per layer', () => {
    // weights 1,1,2 on layers 4..6 of 10 -> shares k=4: 1,1,2
    const w = [9, 9, 9, 9, 1, 1, 2, 9, 9, 9]
    assert.deepEqual(layersOf(scoreCurvePlacement({weights: w, k: 4, band: {start: 4, end: 7}})), [4, 5, 6, 6])
    // k = 1: the heaviest layer
    assert.deepEqual(layersOf(scoreCurvePlacement({weights: w, k: 1, band: {start: 4, end: 7}})), [6])
    // one dominant layer may not take every copy when k <= band size
    const spike = [0, 100, 1, 1, 1, 0]
    assert.deepEqual(layersOf(scoreCurvePlacement({weights: spike, k: 3, band: {start: 1, end: 5}})), [1, 2, 3])
    const placed = scoreCurvePlacement({weights: weightsFromBlockInfluence([0.5, 0.1, 0.2, 0.05, 0.4]), k: 2, band: {start: 1, end: 4}})
    assert.deepEqual(layersOf(placed), [1, 3])
  })

  it('spreadEvenly picks the middles of k equal parts and goes round again', () => {
    assert.deepEqual(spreadEvenly([1, 2, 3, 4, 5, 6], 3), [2, 4, 6])
    assert.deepEqual(spreadEvenly([1, 2, 3], 5), [1, 2, 3, 1, 3])
  })
})

describe('candidate blocks', () => {
  it('middle keeps clear of the first 15% and last 20% of layers', () => {
    assert.deepEqual(candidateBand('middle', 32), {start: 5, end: 26})
    assert.deepEqual(candidateBand('middle', 24), {start: 4, end: 20})
    assert.deepEqual(candidateBand('middle', 5), {start: 1, end: 4})
    assert.deepEqual(candidateBand('all', 5), {start: 0, end: 5})
    assert.deepEqual(candidateBand(parseCandidateSpec('2-3'), 5), {start: 2, end: 4})
  })

  it('blocks of every size inside the band', () => {
    const blocks = candidateBlocks({numLayers: 5, spec: 'all', blockSizes: parseBlockSizes('2,1')})
    assert.deepEqual(
      blocks.map((b) => `${b.start}-${b.end}`),
      ['0-1', '1-2', '2-3', '3-4', '4-5', '0-2', '1-3', '2-4', '3-5'],
    )
    assert.throws(() => candidateBlocks({numLayers: 5, spec: parseCandidateSpec('1-2'), blockSizes: [4]}), UsageError)
  })

  it('bad flags are usage errors', () => {
    assert.throws(() => parseCandidateSpec('top'), UsageError)
    assert.throws(() => parseCandidateSpec('5-2'), UsageError)
    assert.throws(() => candidateBand(parseCandidateSpec('2-9'), 5), /layers 0..4/)
    assert.throws(() => parseBlockSizes('1,0'), UsageError)
    assert.throws(() => parseStrategies('greedy,magic'), /unknown strategy "magic"/)
    assert.deepEqual(parseStrategies('greedy, beam,greedy'), ['greedy', 'beam'])
  })
})
