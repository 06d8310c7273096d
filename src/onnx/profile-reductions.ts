import type {GraphBuilder} from './graph-builder.js'
import type {DecoderSpec} from './decoder-spec.js'

/** The one graph output of the profile reductions (see graph-outputs.ts `reduced`); `unpackReduced` reads it. */
export const REDUCED_OUTPUT = 'profile_stats'

/** Index of the pair (h_k, h_(k+n)) in `ReducedStats.cos` / `angular`: k = 0..L-1, then n = 1..min(gaps, L-k). */
export function pairIndex(k: number, n: number, numLayers: number, gaps: number): number {
  let i = 0
  for (let j = 0; j < k; j++) {
    i += Math.min(gaps, numLayers - j)
  }
  return i + n - 1
}

export interface Reducer {
  /** Reduces the next hidden state h_k ([N, H], N = B * T) as soon as it exists. */
  add(state: string): void
  /** Adds the graph output. */
  finish(): void
}

/** A batch's reductions, unpacked. */
export interface ReducedStats {
  /** [B, L+1]: per row, the sum over its kept positions of ||h_k||. */
  norm: Float32Array
  /** [B, P]: per row, the sums of cos(h_k, h_(k+n)) and of arccos(cos)/pi, pairs in `pairIndex` order. */
  cos: Float32Array
  angular: Float32Array
  pairs: number
  /** [L+1, H] over every kept position of the batch. */
  sum: Float32Array
  sumSq: Float32Array
  sumAbs: Float32Array
  maxAbs: Float32Array
}

/** Pairs ending at state k: (k-1, 1), (k-2, 2), ..., (k-m, m) with m = min(gaps, k). */
const pairsEndingAt = (k: number, gaps: number): number => Math.min(gaps, k)

/**
 * The per-sample and per-neuron reductions `dlec profile` stores, computed inside the graph over the
 * positions t >= 1 that the attention mask keeps (position 0 carries the massive activations): per
 * row the sums of ||h_k||, of cos(h_j, h_k) for k - j <= gaps and of arccos(cos)/pi; per neuron of
 * h_k the sum, sum of squares, sum |x| and max |x| over the batch. Per-token sums are taken in
 * float64; everything is returned as float32.
 *
 * Memory: the reductions of h_k are one tensor r_k, and the output is the chain
 * acc_k = Concat(acc_(k-1), r_k), so ONNX Runtime's depth-first order computes r_k before the next
 * layers' reductions: a state lives until the cosine `gaps` layers later has used it, whatever the
 * depth, and no [B, T, H] tensor leaves the session. Layout of the 1-D output: for k = 0..L, the
 * [B, 1 + 2m] row block (norm, m cosines, m angular distances for the pairs ending at k, nearest
 * first), then the [4, H] neuron block (sum, sum of squares, sum |x|, max |x|).
 */
export function profileReducer(p: {g: GraphBuilder; spec: DecoderSpec; mask: string; positions: string; bt: string; gaps: number}): Reducer {
  const {g} = p
  const i64 = (v: number[], dims?: number[]): string => g.constInt64(v, dims)
  const kept = g.op('And', [g.op('Cast', [p.mask], {to: 9}), g.op('Greater', [p.positions, i64([0], [])])], {}, {name: 'stat_kept_bt'})
  const keptN = g.op('Reshape', [kept, i64([-1])], {}, {name: 'stat_kept'})
  // [1, N] float weights: neuron sums are MatMuls, so no masked copy of a state is kept around.
  const weightRow = g.op('Unsqueeze', [g.op('Cast', [keptN], {to: 1}), i64([0])], {}, {name: 'stat_weight_row'})
  const weightCol = g.op('Unsqueeze', [g.op('Cast', [keptN], {to: 1}), i64([1])], {}, {name: 'stat_weight_col'})
  const zero64 = g.op('Cast', [g.scalar(0)], {to: 11}, {name: 'stat_zero64'})
  const tiny = g.scalar(1e-30)
  const flat = i64([-1])
  const rowSum = (perToken: string): string => {
    const masked = g.op('Where', [keptN, g.op('Cast', [perToken], {to: 11}), zero64])
    const rows = g.op('ReduceSum', [g.op('Reshape', [masked, p.bt]), i64([1])], {keepdims: 1})
    return g.op('Cast', [rows], {to: 1})
  }
  const states: string[] = []
  const norms: string[] = []
  let acc: string | undefined
  return {
    add(state) {
      const k = states.length
      states.push(state)
      const norm = g.op('ReduceL2', [state, i64([-1])], {keepdims: 0}, {name: `stat_l2_${k}`})
      norms.push(norm)
      const cosines: string[] = []
      const angulars: string[] = []
      for (let n = 1; n <= pairsEndingAt(k, p.gaps); n++) {
        const j = k - n
        const dot = g.op('ReduceSum', [g.op('Mul', [states[j] as string, state]), i64([-1])], {keepdims: 0})
        const cos = g.op('Div', [dot, g.op('Max', [g.op('Mul', [norms[j] as string, norm]), tiny])], {}, {name: `stat_cos_${j}_${n}`})
        const angular = g.op('Div', [g.op('Acos', [g.op('Clip', [cos, g.scalar(-1), g.scalar(1)])]), g.scalar(Math.PI)])
        cosines.push(rowSum(cos))
        angulars.push(rowSum(angular))
      }
      const rowParts = [rowSum(norm), ...cosines, ...angulars]
      const rows = rowParts.length === 1 ? (rowParts[0] as string) : g.op('Concat', rowParts, {axis: 1}, {name: `stat_rows_${k}`})
      const abs = g.op('Mul', [g.op('Abs', [state]), weightCol])
      const neuron = g.op(
        'Concat',
        [
          g.op('MatMul', [weightRow, state]),
          g.op('MatMul', [weightRow, g.op('Mul', [state, state])]),
          g.op('MatMul', [weightRow, abs]),
          g.op('ReduceMax', [abs, i64([0])], {keepdims: 1}),
        ],
        {axis: 0},
        {name: `stat_neuron_${k}`},
      )
      const block = g.op('Concat', [g.op('Reshape', [rows, flat]), g.op('Reshape', [neuron, flat])], {axis: 0}, {name: `stat_block_${k}`})
      acc = acc === undefined ? block : g.op('Concat', [acc, block], {axis: 0}, {name: `stat_acc_${k}`})
    },
    finish() {
      g.output(acc as string, REDUCED_OUTPUT, 'float', ['stats'])
    },
  }
}

/** Reads the `profile_stats` output of a batch of `batch` rows through `numLayers` layers. */
export function unpackReduced(data: Float32Array, p: {batch: number; numLayers: number; hidden: number; gaps: number}): ReducedStats {
  const {batch: B, numLayers: L, hidden: H, gaps} = p
  const points = L + 1
  const pairs = pairIndex(L - 1, 1, L, gaps) + 1
  const out: ReducedStats = {
    norm: new Float32Array(B * points),
    cos: new Float32Array(B * pairs),
    angular: new Float32Array(B * pairs),
    pairs,
    sum: new Float32Array(points * H),
    sumSq: new Float32Array(points * H),
    sumAbs: new Float32Array(points * H),
    maxAbs: new Float32Array(points * H),
  }
  let at = 0
  for (let k = 0; k <= L; k++) {
    const m = pairsEndingAt(k, gaps)
    const width = 1 + 2 * m
    for (let b = 0; b < B; b++) {
      const row = at + b * width
      out.norm[b * points + k] = data[row] as number
      for (let n = 1; n <= m; n++) {
        const i = b * pairs + pairIndex(k - n, n, L, gaps)
        out.cos[i] = data[row + n] as number
        out.angular[i] = data[row + m + n] as number
      }
    }
    at += B * width
    for (const [q, target] of [out.sum, out.sumSq, out.sumAbs, out.maxAbs].entries()) {
      target.set(data.subarray(at + q * H, at + (q + 1) * H), k * H)
    }
    at += 4 * H
  }
  if (at !== data.length) {
    throw new RangeError(`profile_stats has ${data.length} values; ${B} rows through ${L} layers of width ${H} make ${at}`)
  }
  return out
}
