import {OnnxError} from '../errors.js'
import type {ReducedStats} from '../onnx/profile-reductions.js'

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
 * squares, sum |x|, max |x|. Float64 accumulators indexed [point * hidden + neuron], fed batch by
 * batch with the reductions the graph computed.
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

  /**
   * Adds one batch's in-graph reductions (sum, sum of squares, sum |x|, max |x|, each [points, hidden],
   * over its positions >= 1) covering `tokens` positions.
   */
  addBatch(r: Pick<ReducedStats, 'sum' | 'sumSq' | 'sumAbs' | 'maxAbs'>, tokens: number): void {
    const size = this.points * this.hidden
    for (const t of [r.sum, r.sumSq, r.sumAbs, r.maxAbs]) {
      if (t.length !== size) {
        throw new OnnxError(`neuron reductions have ${t.length} values; expected ${this.points} x ${this.hidden}`)
      }
    }
    const {sum, sumSq, sumAbs, maxAbs, count} = this
    for (let i = 0; i < size; i++) {
      sum[i] = (sum[i] as number) + (r.sum[i] as number)
      sumSq[i] = (sumSq[i] as number) + (r.sumSq[i] as number)
      sumAbs[i] = (sumAbs[i] as number) + (r.sumAbs[i] as number)
      const m = r.maxAbs[i] as number
      if (m > (maxAbs[i] as number)) {
        maxAbs[i] = m
      }
      count[i] = (count[i] as number) + tokens
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
