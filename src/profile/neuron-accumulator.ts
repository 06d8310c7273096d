import type {StatTensor} from './batch-stats.js'

export interface NeuronStatRow {
  point: number
  neuron: number
  count: number
  sum: number
  sum_sq: number
  sum_abs: number
  max_abs: number
}

/**
 * Running per-neuron statistics of the hidden states h_0..h_L over positions >= 1: count, sum, sum of
 * squares, sum |x|, max |x|. Float64 accumulators indexed [point * hidden + neuron].
 */
export class NeuronAccumulator {
  readonly count: Float64Array
  readonly sum: Float64Array
  readonly sumSq: Float64Array
  readonly sumAbs: Float64Array
  readonly maxAbs: Float64Array

  constructor(
    readonly points: number,
    readonly hidden: number,
  ) {
    const size = points * hidden
    this.count = new Float64Array(size)
    this.sum = new Float64Array(size)
    this.sumSq = new Float64Array(size)
    this.sumAbs = new Float64Array(size)
    this.maxAbs = new Float64Array(size)
  }

  /** Adds positions 1..length-1 of every row of h_point ([B, T, H]). */
  add(point: number, h: StatTensor, lengths: readonly number[]): void {
    const seq = h.dims[1] ?? 0
    const H = this.hidden
    const base = point * H
    const {sum, sumSq, sumAbs, maxAbs, count} = this
    const data = h.data
    let tokens = 0
    for (let b = 0; b < lengths.length; b++) {
      const len = lengths[b] as number
      for (let t = 1; t < len; t++) {
        tokens++
        const row = (b * seq + t) * H
        for (let j = 0; j < H; j++) {
          const x = data[row + j] as number
          const i = base + j
          sum[i] = (sum[i] as number) + x
          sumSq[i] = (sumSq[i] as number) + x * x
          const a = Math.abs(x)
          sumAbs[i] = (sumAbs[i] as number) + a
          if (a > (maxAbs[i] as number)) {
            maxAbs[i] = a
          }
        }
      }
    }
    for (let j = 0; j < H; j++) {
      count[base + j] = (count[base + j] as number) + tokens
    }
  }

  /** The neuron_stats columns after run_id: point, neuron, count, sum, sum_sq, sum_abs, max_abs. */
  columns(): [Int32Array, Int32Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array] {
    const size = this.points * this.hidden
    const point = new Int32Array(size)
    const neuron = new Int32Array(size)
    for (let i = 0; i < size; i++) {
      point[i] = Math.floor(i / this.hidden)
      neuron[i] = i % this.hidden
    }
    return [point, neuron, this.count, this.sum, this.sumSq, this.sumAbs, this.maxAbs]
  }

  /** Restores the state from stored rows (resume). */
  load(rows: readonly NeuronStatRow[]): void {
    for (const r of rows) {
      const i = r.point * this.hidden + r.neuron
      this.count[i] = r.count
      this.sum[i] = r.sum
      this.sumSq[i] = r.sum_sq
      this.sumAbs[i] = r.sum_abs
      this.maxAbs[i] = r.max_abs
    }
  }
}
