import type {BranchScale} from '../onnx/decoder-graph.js'
import type {Decoder} from '../onnx/open-decoder.js'
import {meanInterval, resamplePlan, rowMean, type BootstrapOptions, type RowSums} from '../eval/bootstrap.js'
import {compareRows, nllTotals} from '../eval/logit-stats.js'
import {commonPrefixLength} from './layer-plan.js'
import type {Measurement} from './expansion-search.js'

/**
 * Measures layer sequences against the original model on fixed rows of tokens, recomputing only
 * what changes.
 *
 * Execution is a chain of small ONNX graphs built once per model: the embeddings (ids -> h_0), one
 * graph per original layer (h -> h), and the head (h -> logits). Any layer sequence, repeats
 * included, is a walk through these sessions, so candidates cost no new graph or session and share
 * the original's weights (zero-copy). The original is run once with every hidden state kept
 * (h_0 … h_N per batch) and its logits as the reference. A candidate sharing its first p layers with
 * a cached sequence starts from that sequence's h_p and runs only its remaining layers; with prefix
 * caching off, every candidate starts from the token ids (the naive baseline). `remember()` caches
 * the states of an expansion a search keeps, so its extensions start late too. Memory of the cache:
 * (N+1) · tokens · hidden · 4 bytes for the original, the same per remembered expansion, held to
 * `cacheBytes` (h_0 and the reference logits are always kept besides): least recently used
 * expansions go first; when even the original's states do not fit, only its first states that fit
 * are kept. A candidate then starts from the nearest earlier cached state: the same numbers, more
 * layer runs. A candidate may scale its copies' attention / MLP outputs (soft copies, mergekit
 * `scale` on the output projections): a scaled position runs a second session of its layer whose
 * scales are graph inputs (one per layer for every scale, the same shared weights), and the cached
 * (unscaled) states serve it up to its first scaled position.
 */
export interface CurveEvaluator {
  readonly numLayers: number
  /** Predicted tokens per measurement. */
  readonly tokens: number
  /** Mean cross-entropy of the original model. */
  readonly baseLoss: number
  /** Rows (windows of texts) measured; the bootstrap's unit. */
  readonly rows: number
  /** Row counts at the end of each batch (a measured row range starts and ends on one of these, or 0). */
  readonly rowBoundaries: readonly number[]
  /**
   * Measures a layer sequence on rows [from, to) (default: all rows, batch-aligned), keeping the
   * per-row sums; on all rows the measurement carries its 95% bootstrap intervals. `scales` per
   * position of `layers` (undefined or absent: unscaled) measures soft copies.
   */
  measure(layers: readonly number[], options?: MeasureOptions): Promise<Measurement>
  remember(layers: readonly number[]): Promise<void>
  /** Layers run so far (a cost measure: a full forward of an N-layer model is N). */
  readonly layersRun: number
  /** Block Influence of each original layer: 1 − mean cos(h_l, h_l+1) over positions ≥ 1 of every row. */
  readonly blockInfluence: number[]
}

export interface MeasureRange {
  /** First row (a batch boundary, default 0). */
  from?: number
  /** End row, exclusive (a batch boundary, default all rows). */
  to?: number
}

export interface MeasureOptions extends MeasureRange {
  /** Soft copies: the branch scale of each position of the layer sequence (absent: unscaled). */
  scales?: readonly (BranchScale | undefined)[]
}

/** Expansions remembered besides the original (least recently used dropped first). */
const MAX_REMEMBERED = 16
/** Default byte budget of the cached hidden states. */
export const DEFAULT_CACHE_BYTES = 2 * 1024 ** 3

interface Batch {
  rows: number[][]
  lengths: number[]
  seqLen: number
  h0: Float32Array
  reference: Float32Array
}

interface CachedSequence {
  layers: number[]
  /** Per batch, h_0 … h_k of this sequence (k ≤ its length: the states beyond did not fit the budget). */
  states: Float32Array[][]
  /** When a lookup last chose it (least recently used remembered expansions are dropped first). */
  used: number
}

export async function createCurveEvaluator(params: {decoder: Decoder; batches: number[][][]; prefixCache?: boolean; cacheBytes?: number; bootstrap?: BootstrapOptions}): Promise<CurveEvaluator> {
  const {decoder} = params
  const prefixCache = params.prefixCache !== false
  const budget = params.cacheBytes ?? DEFAULT_CACHE_BYTES
  const {numLayers, hidden, vocab} = decoder.spec
  const original = Array.from({length: numLayers}, (_, i) => i)
  let layersRun = 0

  const embed = async (rows: number[][]): Promise<{h: Float32Array; lengths: number[]; seqLen: number}> => {
    const r = await decoder.run({inputIds: rows, layers: [], outputs: {logits: 'none', hidden: [0]}})
    return {h: r.outputs.hidden_0?.data as Float32Array, lengths: r.lengths, seqLen: r.seqLen}
  }
  const layer = async (b: {rows: number[][]; lengths: number[]; seqLen: number}, l: number, h: Float32Array, scale?: BranchScale): Promise<Float32Array> => {
    layersRun++
    const fed = isScaled(scale) ? {scales: [scale], scaleFeeds: true} : {}
    const r = await decoder.run({hidden: {data: h, dims: [b.rows.length, b.seqLen, hidden], lengths: b.lengths}, layers: [l], ...fed, outputs: {logits: 'none', hidden: [1]}})
    return r.outputs.hidden_1?.data as Float32Array
  }
  const head = async (b: {rows: number[][]; lengths: number[]; seqLen: number}, h: Float32Array): Promise<Float32Array> => {
    const r = await decoder.run({hidden: {data: h, dims: [b.rows.length, b.seqLen, hidden], lengths: b.lengths}, layers: [], outputs: {logits: 'all'}})
    return r.outputs.logits?.data as Float32Array
  }

  const batches: Batch[] = []
  const origStates: Float32Array[][] = []
  const cosSum = new Array<number>(numLayers).fill(0)
  const cosCount = new Array<number>(numLayers).fill(0)
  let baseTokens = 0
  let baseNll = 0
  const embedded = []
  for (const rows of params.batches) {
    const e = await embed(rows)
    embedded.push({rows, lengths: e.lengths, seqLen: e.seqLen, h0: e.h})
  }
  // bytes of one hidden state of every batch: the original keeps h_1 … h_keep within the budget
  const pointBytes = embedded.reduce((s, e) => s + e.h0.byteLength, 0)
  const keep = prefixCache ? Math.min(numLayers, Math.floor(budget / Math.max(1, pointBytes))) : 0
  for (const e of embedded) {
    const b = {rows: e.rows, lengths: e.lengths, seqLen: e.seqLen}
    const states = [e.h0]
    let h = e.h0
    for (const l of original) {
      const next = await layer(b, l, h)
      accumulateCosine(h, next, b, hidden, l, cosSum, cosCount)
      h = next
      if (l < keep) {
        states.push(next)
      }
    }
    const reference = await head(b, h)
    batches.push({...b, h0: e.h0, reference})
    origStates.push(prefixCache ? states : [])
    const own = nllTotals(reference, e.rows, b.seqLen, vocab)
    baseTokens += own.tokens
    baseNll += own.nll
  }
  let clock = 0
  const cache: CachedSequence[] = prefixCache ? [{layers: original, states: origStates, used: 0}] : []
  const h0s = new Set<Float32Array>(batches.map((b) => b.h0))
  /** Bytes the cache holds (states shared by several sequences counted once, h_0 not counted). */
  const cachedBytes = (): number => {
    const seen = new Set<Float32Array>(h0s)
    let bytes = 0
    for (const entry of cache) {
      for (const h of entry.states.flat()) {
        if (!seen.has(h)) {
          seen.add(h)
          bytes += h.byteLength
        }
      }
    }
    return bytes
  }

  /** The cached sequence with the latest usable state for `layers`, and that state's index. */
  const longestPrefix = (layers: readonly number[], scales?: readonly (BranchScale | undefined)[]): {entry?: CachedSequence; p: number} => {
    let best: {entry?: CachedSequence; p: number} = {p: 0}
    // cached sequences are unscaled: they serve a candidate up to its first scaled position
    const firstScaled = scales?.findIndex((s) => isScaled(s)) ?? -1
    const unscaled = firstScaled < 0 ? layers.length : firstScaled
    for (const entry of cache) {
      const p = Math.min(commonPrefixLength(entry.layers, layers), unscaled, (entry.states[0]?.length ?? 1) - 1)
      if (p > best.p) {
        best = {entry, p}
      }
    }
    if (best.entry) {
      best.entry.used = ++clock
    }
    return best
  }

  const boundaries: number[] = []
  for (const b of batches) {
    boundaries.push((boundaries.at(-1) ?? 0) + b.rows.length)
  }
  const totalRows = boundaries.at(-1) ?? 0
  const batchAt = (row: number, flag: string): number => {
    const i = row === 0 ? 0 : boundaries.indexOf(row) + 1
    if (i === 0 && row !== 0) {
      throw new RangeError(`curve evaluator: ${flag} row ${row} is not a batch boundary (${boundaries.join(', ')})`)
    }
    return i
  }

  const runSequence = async (layers: readonly number[], keepStates: boolean, range: MeasureOptions = {}): Promise<{sums: RowSums; states: Float32Array[][]}> => {
    const {scales} = range
    const {entry, p} = longestPrefix(layers, scales)
    const sums: RowSums = {tokens: [], kl: [], nll: [], dLoss: [], agree: []}
    const states: Float32Array[][] = []
    const first = batchAt(range.from ?? 0, 'first')
    const end = batchAt(range.to ?? totalRows, 'end')
    for (const [i, b] of batches.entries()) {
      if (i < first || i >= end) {
        continue
      }
      const start = entry?.states[i]?.[p] ?? (prefixCache ? b.h0 : (await embed(b.rows)).h)
      const kept = keepStates ? [...(entry?.states[i] ?? [b.h0]).slice(0, p), start] : []
      let h = start
      for (let at = p; at < layers.length; at++) {
        h = await layer(b, layers[at] as number, h, scales?.[at])
        if (keepStates) {
          kept.push(h)
        }
      }
      for (const r of compareRows(await head(b, h), b.reference, b.rows, b.seqLen, vocab)) {
        sums.tokens.push(r.tokens)
        sums.kl.push(r.kl)
        sums.nll.push(r.nll)
        sums.dLoss.push(r.nll - r.referenceNll)
        sums.agree.push(r.agree)
      }
      states.push(kept)
    }
    return {sums, states}
  }

  return {
    numLayers,
    tokens: baseTokens,
    baseLoss: baseNll / baseTokens,
    rows: totalRows,
    rowBoundaries: boundaries,
    blockInfluence: cosSum.map((s, l) => 1 - s / Math.max(1, cosCount[l] as number)),
    get layersRun() {
      return layersRun
    },
    async measure(layers, range) {
      const {sums} = await runSequence(layers, false, range)
      return measurementOf(sums, sums.tokens.length === totalRows ? (params.bootstrap ?? {}) : undefined)
    },
    async remember(layers) {
      if (!prefixCache || cache.some((c) => c.layers.join(',') === layers.join(','))) {
        return
      }
      const {states} = await runSequence(layers, true)
      const entry = {layers: [...layers], states, used: ++clock}
      cache.push(entry)
      const lru = (): number => cache.reduce((at, c, i) => (i > 0 && c !== entry && (at === 0 || c.used < (cache[at] as CachedSequence).used) ? i : at), 0)
      while (cache.length > 2 && (cache.length > MAX_REMEMBERED + 1 || cachedBytes() > budget)) {
        cache.splice(lru(), 1)
      }
      // even alone with the original it does not fit: keep only its first states that do
      while ((entry.states[0]?.length ?? 0) > 1 && cachedBytes() > budget) {
        for (const s of entry.states) {
          s.pop()
        }
      }
      if ((entry.states[0]?.length ?? 0) <= 1) {
        cache.splice(cache.indexOf(entry), 1)
      }
    },
  }
}

/** Whether a scale changes its layer (absent, or 1 on both branches, does not). */
function isScaled(scale: BranchScale | undefined): scale is BranchScale {
  return scale !== undefined && ((scale.attn ?? 1) !== 1 || (scale.mlp ?? 1) !== 1)
}

/** Adds cos(h_in, h_out) of every real position ≥ 1 of every row to layer l's running sums. */
function accumulateCosine(
  a: Float32Array,
  b: Float32Array,
  batch: {lengths: number[]; seqLen: number},
  width: number,
  l: number,
  sums: number[],
  counts: number[],
): void {
  for (const [row, len] of batch.lengths.entries()) {
    for (let t = 1; t < len; t++) {
      const off = (row * batch.seqLen + t) * width
      let dot = 0
      let na = 0
      let nb = 0
      for (let i = 0; i < width; i++) {
        const x = a[off + i] as number
        const y = b[off + i] as number
        dot += x * y
        na += x * x
        nb += y * y
      }
      sums[l] = (sums[l] as number) + dot / Math.sqrt(na * nb)
      counts[l] = (counts[l] as number) + 1
    }
  }
}

/**
 * The measurement of per-row sums: the means as Σ sum / Σ tokens (rows in order), and, when
 * `bootstrap` is given, the 95% paired-bootstrap intervals of KL, Δloss and top-1 (the same
 * resamples for every measurement of as many rows: resamplePlan).
 */
export function measurementOf(rows: RowSums, bootstrap?: BootstrapOptions): Measurement {
  const kl = rowMean(rows, 'kl')
  const loss = rowMean(rows, 'nll')
  const m: Measurement = {kl, loss, lossDelta: rowMean(rows, 'dLoss'), top1: rowMean(rows, 'agree'), tokens: rows.tokens.reduce((a, b) => a + b, 0), rows}
  if (bootstrap !== undefined && rows.tokens.length > 1) {
    const plan = resamplePlan(rows.tokens.length, bootstrap)
    m.klCi = meanInterval(rows, 'kl', plan)
    m.lossDeltaCi = meanInterval(rows, 'dLoss', plan)
    m.top1Ci = meanInterval(rows, 'agree', plan)
  }
  return m
}
