import type {Decoder} from '../onnx/open-decoder.js'
import type {BranchScale} from '../onnx/decoder-graph.js'
import {compareRows, nllTotals} from '../eval/logit-stats.js'
import {meanInterval, resamplePlan, type Interval, type RowSums} from '../eval/bootstrap.js'

/**
 * The held-out re-check: a chosen layer sequence measured on texts the choice never saw, with 95%
 * bootstrap intervals. It runs the whole sequence from the token ids, as `dlec eval` does (one
 * `decoder.run` per batch, the original's logits as the reference, computed once), and keeps the
 * per-row sums of compareRows; the intervals resample those rows (seeded: the same draws for every
 * sequence measured on the same rows). Its figures are `dlec eval --data HELDOUT` of the merged plan.
 */
export interface HoldoutFigure {
  split: 'holdout'
  /** Where the held-out texts came from (`--holdout FILE` or `--holdout-split F (seed S)`). */
  source: string
  texts: number
  rows: number
  tokens: number
  kl: number
  klCi: Interval
  loss: number
  lossDelta: number
  lossDeltaCi: Interval
  top1: number
  top1Ci: Interval
  /** The original's mean loss on the held-out tokens. */
  baseLoss: number
}

export interface HoldoutCheck {
  readonly source: string
  readonly texts: number
  readonly rows: number
  readonly tokens: number
  readonly baseLoss: number
  measure(layers: readonly number[], scales?: (BranchScale | undefined)[]): Promise<HoldoutFigure>
}

export async function createHoldoutCheck(params: {decoder: Decoder; batches: number[][][]; source: string; texts: number; seed?: number}): Promise<HoldoutCheck> {
  const {decoder, batches, source} = params
  const {numLayers, vocab} = decoder.spec
  const original = Array.from({length: numLayers}, (_, i) => i)
  const references: {logits: Float32Array; seqLen: number}[] = []
  let tokens = 0
  let baseNll = 0
  for (const rows of batches) {
    const r = await decoder.run({inputIds: rows, layers: original, outputs: {logits: 'all'}})
    const logits = r.outputs.logits?.data as Float32Array
    references.push({logits, seqLen: r.seqLen})
    const own = nllTotals(logits, rows, r.seqLen, vocab)
    tokens += own.tokens
    baseNll += own.nll
  }
  const rowCount = batches.reduce((n, b) => n + b.length, 0)
  const plan = resamplePlan(rowCount, {seed: params.seed ?? 0})
  return {
    source,
    texts: params.texts,
    rows: rowCount,
    tokens,
    baseLoss: baseNll / tokens,
    async measure(layers, scales) {
      const sums: RowSums = {tokens: [], kl: [], nll: [], dLoss: [], agree: []}
      for (const [i, rows] of batches.entries()) {
        const r = await decoder.run({inputIds: rows, layers: [...layers], scales, outputs: {logits: 'all'}})
        const ref = references[i] as {logits: Float32Array; seqLen: number}
        for (const t of compareRows(r.outputs.logits?.data as Float32Array, ref.logits, rows, r.seqLen, vocab)) {
          sums.tokens.push(t.tokens)
          sums.kl.push(t.kl)
          sums.nll.push(t.nll)
          sums.dLoss.push(t.nll - t.referenceNll)
          sums.agree.push(t.agree)
        }
      }
      const total = (xs: number[]): number => xs.reduce((a, b) => a + b, 0)
      const n = total(sums.tokens)
      const loss = total(sums.nll) / n
      return {
        split: 'holdout',
        source,
        texts: params.texts,
        rows: rowCount,
        tokens: n,
        kl: total(sums.kl) / n,
        klCi: meanInterval(sums, 'kl', plan),
        loss,
        // as dlec eval reports it: candidate loss minus the original's, each a mean over the tokens
        lossDelta: loss - baseNll / tokens,
        lossDeltaCi: meanInterval(sums, 'dLoss', plan),
        top1: total(sums.agree) / n,
        top1Ci: meanInterval(sums, 'agree', plan),
        baseLoss: baseNll / tokens,
      }
    },
  }
}
