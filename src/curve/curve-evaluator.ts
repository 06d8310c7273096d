import type {Decoder} from '../onnx/open-decoder.js'
import {commonPrefixLength} from '../scoring/layer-plan.js'
import {compareTotals, nllTotals, type ComparisonTotals} from '../eval/logit-stats.js'
import type {Measurement} from './expansion-search.js'

/**
 * Measures layer sequences against the original model on fixed rows of tokens, recomputing only
 * what changes. The original is run once with every hidden state kept (h_0 … h_N per batch, plus
 * its logits as the reference). A candidate sequence that shares its first p layers with a cached
 * sequence starts from that sequence's h_p and runs only its remaining layers; with prefix caching
 * off, every candidate runs from the token ids (the naive baseline). `remember()` adds the hidden
 * states of an expansion the search keeps, so its extensions start late too.
 */
export interface CurveEvaluator {
  readonly numLayers: number
  /** Predicted tokens per measurement. */
  readonly tokens: number
  /** Mean cross-entropy of the original model. */
  readonly baseLoss: number
  measure(layers: readonly number[]): Promise<Measurement>
  remember(layers: readonly number[]): Promise<void>
  /** Layers run so far (a cost measure: a full forward of an N-layer model is N). */
  readonly layersRun: number
  /** Block Influence of each original layer: 1 − mean cos(h_l, h_l+1) over positions ≥ 1 of every row. */
  readonly blockInfluence: number[]
}

/** Expansions remembered besides the original (oldest dropped first). */
const MAX_REMEMBERED = 16

interface Batch {
  rows: number[][]
  lengths: number[]
  seqLen: number
  reference: Float32Array
}

interface CachedSequence {
  layers: number[]
  /** Per batch, h_0 … h_len of this sequence. */
  states: Float32Array[][]
}

export async function createCurveEvaluator(params: {decoder: Decoder; batches: number[][][]; prefixCache?: boolean}): Promise<CurveEvaluator> {
  const {decoder} = params
  const prefixCache = params.prefixCache !== false
  const numLayers = decoder.spec.numLayers
  const hidden = decoder.spec.hidden
  const vocab = decoder.spec.vocab
  const original = Array.from({length: numLayers}, (_, i) => i)
  const batches: Batch[] = []
  const origStates: Float32Array[][] = []
  let layersRun = 0
  let base = emptyTotals()
  const cosSum = new Array<number>(numLayers).fill(0)
  const cosCount = new Array<number>(numLayers).fill(0)
  for (const rows of params.batches) {
    const r = await decoder.run({inputIds: rows, layers: original, outputs: {logits: 'all', hidden: prefixCache ? 'all' : [], cosineGaps: 1}})
    layersRun += numLayers
    for (let l = 0; l < numLayers; l++) {
      const cos = r.outputs[`cos_${l}_1`]?.data as Float32Array
      for (const [b, len] of r.lengths.entries()) {
        for (let t = 1; t < len; t++) {
          cosSum[l] = (cosSum[l] as number) + (cos[b * r.seqLen + t] as number)
        }
        cosCount[l] = (cosCount[l] as number) + Math.max(0, len - 1)
      }
    }
    const reference = r.outputs.logits?.data as Float32Array
    batches.push({rows, lengths: r.lengths, seqLen: r.seqLen, reference})
    origStates.push(prefixCache ? original.map((_, k) => r.outputs[`hidden_${k}`]?.data as Float32Array).concat([r.outputs[`hidden_${numLayers}`]?.data as Float32Array]) : [])
    const own = nllTotals(reference, rows, r.seqLen, vocab)
    base = addTotals(base, {...own, referenceNll: own.nll, kl: 0, agree: own.tokens})
  }
  const cache: CachedSequence[] = prefixCache ? [{layers: original, states: origStates}] : []

  const longestPrefix = (layers: readonly number[]): {entry?: CachedSequence; p: number} => {
    let best: {entry?: CachedSequence; p: number} = {p: 0}
    for (const entry of cache) {
      // a candidate must run at least one layer after the cached state, so its logits are fresh
      const p = Math.min(commonPrefixLength(entry.layers, layers), layers.length - 1)
      if (p > best.p || best.entry === undefined) {
        best = {entry, p}
      }
    }
    return best
  }

  const runSequence = async (layers: readonly number[], keepStates: boolean): Promise<{sums: ComparisonTotals; states: Float32Array[][]}> => {
    const {entry, p} = longestPrefix(layers)
    let sums = emptyTotals()
    const states: Float32Array[][] = []
    const suffix = layers.slice(entry ? p : 0)
    for (const [i, b] of batches.entries()) {
      const start = entry?.states[i]?.[p]
      const outputs = {logits: 'all' as const, hidden: keepStates ? ('all' as const) : []}
      const r =
        entry && start
          ? await decoder.run({hidden: {data: start, dims: [b.rows.length, b.seqLen, hidden], lengths: b.lengths}, layers: [...suffix], outputs})
          : await decoder.run({inputIds: b.rows, layers: [...layers], outputs})
      layersRun += suffix.length
      sums = addTotals(sums, compareTotals(r.outputs.logits?.data as Float32Array, b.reference, b.rows, b.seqLen, vocab))
      if (keepStates) {
        const prefix = entry && start ? (entry.states[i] ?? []).slice(0, p) : []
        const own = suffix.map((_, k) => r.outputs[`hidden_${k}`]?.data as Float32Array).concat([r.outputs[`hidden_${suffix.length}`]?.data as Float32Array])
        states.push([...prefix, ...own])
      }
    }
    return {sums, states}
  }

  const toMeasurement = (s: ComparisonTotals): Measurement => ({
    kl: s.kl / s.tokens,
    loss: s.nll / s.tokens,
    lossDelta: s.nll / s.tokens - s.referenceNll / s.tokens,
    top1: s.agree / s.tokens,
  })

  return {
    numLayers,
    tokens: base.tokens,
    baseLoss: base.referenceNll / base.tokens,
    blockInfluence: cosSum.map((s, l) => 1 - s / Math.max(1, cosCount[l] as number)),
    get layersRun() {
      return layersRun
    },
    async measure(layers) {
      return toMeasurement((await runSequence(layers, false)).sums)
    },
    async remember(layers) {
      if (!prefixCache || cache.some((c) => c.layers.join(',') === layers.join(','))) {
        return
      }
      const {states} = await runSequence(layers, true)
      cache.push({layers: [...layers], states})
      if (cache.length > MAX_REMEMBERED + 1) {
        cache.splice(1, 1)
      }
    },
  }
}

function emptyTotals(): ComparisonTotals {
  return {tokens: 0, nll: 0, referenceNll: 0, kl: 0, agree: 0}
}

function addTotals(a: ComparisonTotals, b: ComparisonTotals): ComparisonTotals {
  return {tokens: a.tokens + b.tokens, nll: a.nll + b.nll, referenceNll: a.referenceNll + b.referenceNll, kl: a.kl + b.kl, agree: a.agree + b.agree}
}
