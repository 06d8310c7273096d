import {OnnxError} from '../errors.js'

/** A [B, T] or [B, T, H] float tensor as the decoder returns it. */
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
 * Per-sample sums over positions 1..length-1 of the in-graph reductions `norm_k` and `cos_k_n`
 * (see onnx/graph-outputs.ts), appended to the column buffers. Row b is sample `firstSample + b`.
 */
export function collectBatchStats(params: {
  outputs: Record<string, StatTensor>
  lengths: readonly number[]
  numLayers: number
  firstSample: number
  layers: LayerStatColumns
  blocks: BlockStatColumns
}): void {
  const {outputs, lengths, numLayers, layers, blocks} = params
  const get = (name: string): StatTensor => {
    const t = outputs[name]
    if (t === undefined) {
      throw new OnnxError(`the decoder returned no ${name} output`)
    }
    return t
  }
  const seq = get('norm_0').dims[1] ?? 0
  const sumRow = (t: StatTensor, b: number, len: number, f?: (x: number) => number): number => {
    let s = 0
    const base = b * seq
    for (let t0 = 1; t0 < len; t0++) {
      const x = t.data[base + t0] as number
      s += f === undefined ? x : f(x)
    }
    return s
  }
  for (let b = 0; b < lengths.length; b++) {
    const len = lengths[b] as number
    const sample = params.firstSample + b
    const tokens = Math.max(0, len - 1)
    for (let k = 0; k < numLayers; k++) {
      const cos = get(`cos_${k}_1`)
      layers.sample.push(sample)
      layers.layer.push(k)
      layers.tokens.push(tokens)
      layers.normIn.push(sumRow(get(`norm_${k}`), b, len))
      layers.normOut.push(sumRow(get(`norm_${k + 1}`), b, len))
      layers.cos.push(sumRow(cos, b, len))
      layers.angular.push(sumRow(cos, b, len, angularDistance))
      for (let n = 1; n <= MAX_BLOCK && k + n <= numLayers; n++) {
        const c = get(`cos_${k}_${n}`)
        blocks.sample.push(sample)
        blocks.start.push(k)
        blocks.n.push(n)
        blocks.tokens.push(tokens)
        blocks.cos.push(sumRow(c, b, len))
        blocks.angular.push(sumRow(c, b, len, angularDistance))
      }
    }
  }
}
