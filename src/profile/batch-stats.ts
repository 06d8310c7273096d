import {pairIndex, type ReducedStats} from '../onnx/profile-reductions.js'

/** A float tensor as the decoder returns it. */
export interface StatTensor {
  dims: readonly number[]
  data: Float32Array
}

/** Columns of layer_stats rows (one row per sample and layer). */
export interface LayerStatColumns {
  sample: number[]
  layer: number[]
  tokens: number[]
  normIn: number[]
  normOut: number[]
  cos: number[]
  angular: number[]
}

/** Columns of block_stats rows (one row per sample, start and n). */
export interface BlockStatColumns {
  sample: number[]
  start: number[]
  n: number[]
  tokens: number[]
  cos: number[]
  angular: number[]
}

export const MAX_BLOCK = 8

/** arccos(cos)/pi with cos clamped to [-1, 1] (float rounding can step just outside). */
export function angularDistance(cos: number): number {
  return Math.acos(Math.min(1, Math.max(-1, cos))) / Math.PI
}

export function emptyLayerColumns(): LayerStatColumns {
  return {sample: [], layer: [], tokens: [], normIn: [], normOut: [], cos: [], angular: []}
}

export function emptyBlockColumns(): BlockStatColumns {
  return {sample: [], start: [], n: [], tokens: [], cos: [], angular: []}
}

/**
 * Appends the per-sample rows of one batch, from the in-graph reductions (sums over positions
 * 1..length-1; see onnx/profile-reductions.ts), to the column buffers. Row b is sample `firstSample + b`.
 */
export function collectBatchStats(params: {
  stats: ReducedStats
  lengths: readonly number[]
  numLayers: number
  firstSample: number
  layers: LayerStatColumns
  blocks: BlockStatColumns
}): void {
  const {stats, lengths, numLayers, layers, blocks} = params
  const points = numLayers + 1
  for (let b = 0; b < lengths.length; b++) {
    const sample = params.firstSample + b
    const tokens = Math.max(0, (lengths[b] as number) - 1)
    const pair = (k: number, n: number): number => b * stats.pairs + pairIndex(k, n, numLayers, MAX_BLOCK)
    for (let k = 0; k < numLayers; k++) {
      layers.sample.push(sample)
      layers.layer.push(k)
      layers.tokens.push(tokens)
      layers.normIn.push(stats.norm[b * points + k] as number)
      layers.normOut.push(stats.norm[b * points + k + 1] as number)
      layers.cos.push(stats.cos[pair(k, 1)] as number)
      layers.angular.push(stats.angular[pair(k, 1)] as number)
      for (let n = 1; n <= MAX_BLOCK && k + n <= numLayers; n++) {
        blocks.sample.push(sample)
        blocks.start.push(k)
        blocks.n.push(n)
        blocks.tokens.push(tokens)
        blocks.cos.push(stats.cos[pair(k, n)] as number)
        blocks.angular.push(stats.angular[pair(k, n)] as number)
      }
    }
  }
}
