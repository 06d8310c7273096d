import {DataError} from '../errors.js'
import {openDecoderIter, type Decoder, type OpenDecoderEvent} from '../onnx/open-decoder.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import type {WeightFormat} from '../onnx/weight-store.js'
import type {BranchScale} from '../onnx/decoder-graph.js'
import {compareTotals, nllTotals} from './logit-stats.js'
import {probeAccuracy, type ProbeItem, type ProbeResult} from './probe.js'
import {tokenWindows} from './token-windows.js'

export interface EvaluateParams {
  /** Local model folder. */
  modelDir: string
  /** Cache folder for converted weights and graphs. */
  cacheDir: string
  /** Layer sequence to evaluate (default: the model's own layers). */
  layers?: number[]
  /** Per position of `layers`: output scales of that copy (identity copies: 0). */
  scales?: (BranchScale | undefined)[]
  texts: string[]
  /** Cap on the number of tokens evaluated (whole data by default). */
  maxTokens?: number
  /** Rows per forward pass (default 4). */
  batchSize?: number
  /** Tokens per row; longer texts are chunked (default: the model's positions, at most 1024). */
  windowSize?: number
  threads?: number
  /** Weight format of the graphs (default fp32). */
  quant?: WeightFormat
  /** Multiple-choice items scored by log-likelihood, for the candidate and the original. */
  probe?: ProbeItem[]
}

export interface EvalReport {
  modelDir: string
  layers: number[]
  /** Output scales of scaled copies, by position in `layers` (absent when none). */
  scales?: (BranchScale | undefined)[]
  /** The model's own layer count. */
  numLayers: number
  texts: number
  rows: number
  /** Texts split into several windows because they are longer than `windowSize`. */
  chunkedTexts: number
  windowSize: number
  /** True when --max-tokens cut the data short. */
  truncated: boolean
  /** Predicted tokens (each row of n tokens predicts n - 1). */
  tokens: number
  /** Mean cross-entropy, nats per predicted token. */
  loss: number
  perplexity: number
  original: {loss: number; perplexity: number}
  /** Mean per-token KL(original || candidate), nats. 0 for the original itself. */
  meanKl: number
  /** Share of predictions where the candidate's top token is the original's. */
  top1Agreement: number
  /** loss - original.loss. */
  lossDelta: number
  probe?: {candidate: ProbeResult; original: ProbeResult}
}

export type EvaluateEvent = OpenDecoderEvent | {type: 'eval'; done: number; total: number}

/**
 * Loss and perplexity of a model, or of a layer sequence run zero-copy on the original's weights,
 * and its distance to the original on the same tokens (KL, top-1 agreement, loss change).
 */
export async function* evaluateIter(params: EvaluateParams): AsyncGenerator<EvaluateEvent, EvalReport> {
  const tokenizer = loadTokenizer(params.modelDir)
  const decoder: Decoder = yield* openDecoderIter({modelDir: params.modelDir, cacheDir: params.cacheDir, threads: params.threads, quant: params.quant})
  try {
    const {spec} = decoder
    const original = Array.from({length: spec.numLayers}, (_, i) => i)
    const layers = params.layers ?? original
    const scales = params.scales?.some((x) => x !== undefined) === true ? params.scales : undefined
    const same = scales === undefined && layers.length === original.length && layers.every((l, i) => l === i)
    const windowSize = Math.min(params.windowSize ?? 1024, spec.maxPositions)
    const windows = tokenWindows({tokenizer, texts: params.texts, windowSize, maxTokens: params.maxTokens})
    if (windows.rows.length === 0) {
      throw new DataError(`the evaluation data has no text of 2 or more tokens (${params.texts.length} texts)`)
    }
    const batchSize = Math.max(1, params.batchSize ?? 4)
    const totals = {tokens: 0, nll: 0, referenceNll: 0, kl: 0, agree: 0}
    for (let at = 0; at < windows.rows.length; at += batchSize) {
      const rows = windows.rows.slice(at, at + batchSize)
      const cand = await decoder.run({inputIds: rows, layers, scales, outputs: {logits: 'all'}})
      const logits = cand.outputs.logits?.data as Float32Array
      if (same) {
        const t = nllTotals(logits, rows, cand.seqLen, spec.vocab)
        totals.tokens += t.tokens
        totals.nll += t.nll
        totals.referenceNll += t.nll
        totals.agree += t.tokens
      } else {
        const ref = await decoder.run({inputIds: rows, layers: original, outputs: {logits: 'all'}})
        const t = compareTotals(logits, ref.outputs.logits?.data as Float32Array, rows, cand.seqLen, spec.vocab)
        totals.tokens += t.tokens
        totals.nll += t.nll
        totals.referenceNll += t.referenceNll
        totals.kl += t.kl
        totals.agree += t.agree
      }
      yield {type: 'eval', done: Math.min(at + batchSize, windows.rows.length), total: windows.rows.length}
    }
    let probe: EvalReport['probe']
    if (params.probe !== undefined) {
      const candidate = await probeAccuracy({decoder, tokenizer, items: params.probe, layers, scales, batchSize})
      probe = {candidate, original: same ? candidate : await probeAccuracy({decoder, tokenizer, items: params.probe, layers: original, batchSize})}
    }
    const loss = totals.nll / totals.tokens
    const originalLoss = totals.referenceNll / totals.tokens
    return {
      modelDir: params.modelDir,
      layers,
      ...(scales === undefined ? {} : {scales}),
      numLayers: spec.numLayers,
      texts: params.texts.length,
      rows: windows.rows.length,
      chunkedTexts: windows.chunkedTexts,
      windowSize,
      truncated: windows.truncated,
      tokens: totals.tokens,
      loss,
      perplexity: Math.exp(loss),
      original: {loss: originalLoss, perplexity: Math.exp(originalLoss)},
      meanKl: totals.kl / totals.tokens,
      top1Agreement: totals.agree / totals.tokens,
      lossDelta: loss - originalLoss,
      ...(probe === undefined ? {} : {probe}),
    }
  } finally {
    await decoder.release()
  }
}

/** evaluateIter without progress events. */
export async function evaluate(params: EvaluateParams): Promise<EvalReport> {
  const it = evaluateIter(params)
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}
