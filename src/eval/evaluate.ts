import {DataError, InterruptedError} from '../errors.js'
import {openDecoderIter, type Decoder, type OpenDecoderEvent} from '../onnx/open-decoder.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import {decoderOptions, type DecoderOptions} from '../onnx/devices.js'
import {modelOf, type ModelInput} from '../model/loaded-model.js'
import {drain} from '../drain.js'
import type {FormatDecision} from '../onnx/weight-format.js'
import type {BranchScale} from '../onnx/decoder-graph.js'
import {compareTotals, nllTotals} from './logit-stats.js'
import {probeAccuracy, type ProbeItem, type ProbeResult} from './probe.js'
import {tokenWindows} from './token-windows.js'

export interface EvaluateParams extends ModelInput, DecoderOptions {
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
  /** Stops between batches (an InterruptedError). */
  signal?: AbortSignal
  /** Multiple-choice items scored by log-likelihood, for the candidate and the original. */
  probe?: ProbeItem[]
  /**
   * The model to compare against (e.g. the base of a merged folder), run on the same tokens: the
   * tokenizer is this one's, and both must share the vocabulary. Default: `modelDir` itself with
   * its own layers.
   */
  baseDir?: string
}

export interface EvalReport {
  modelDir: string
  /** The model compared against when it is not `modelDir` (--base). */
  baseDir?: string
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
  /** The weight format the graphs ran, and why. */
  weightFormat: FormatDecision
}

export type EvaluateEvent = OpenDecoderEvent | {type: 'eval'; done: number; total: number}

/**
 * Loss and perplexity of a model, or of a layer sequence run zero-copy on the original's weights,
 * and its distance to the original on the same tokens (KL, top-1 agreement, loss change).
 */
export async function* evaluateIter(params: EvaluateParams): AsyncGenerator<EvaluateEvent, EvalReport> {
  const baseDir = params.baseDir
  const model = await modelOf(params)
  const modelDir = model.location.dir
  const tokenizer = loadTokenizer(baseDir ?? modelDir)
  const decoder: Decoder = yield* openDecoderIter({...decoderOptions(params), model, signal: params.signal})
  let base: Decoder | undefined
  try {
    const {spec} = decoder
    if (baseDir !== undefined) {
      // the same weight format as the model's, so the comparison is like with like
      base = yield* openDecoderIter({...decoderOptions(params), modelDir: baseDir, quant: decoder.weightFormat.format, signal: params.signal})
      if (base.spec.vocab !== spec.vocab) {
        throw new DataError(`--base ${baseDir}: vocabulary of ${base.spec.vocab} tokens, but ${modelDir} has ${spec.vocab}: they cannot be compared on the same tokens`)
      }
    }
    const reference = base ?? decoder
    const original = Array.from({length: reference.spec.numLayers}, (_, i) => i)
    const layers = params.layers ?? Array.from({length: spec.numLayers}, (_, i) => i)
    const scales = params.scales?.some((x) => x !== undefined) === true ? params.scales : undefined
    const same = base === undefined && scales === undefined && layers.length === original.length && layers.every((l, i) => l === i)
    const windowSize = Math.min(params.windowSize ?? 1024, spec.maxPositions, reference.spec.maxPositions)
    const windows = tokenWindows({tokenizer, texts: params.texts, windowSize, maxTokens: params.maxTokens})
    if (windows.rows.length === 0) {
      throw new DataError(`the evaluation data has no text of 2 or more tokens (${params.texts.length} texts)`)
    }
    const batchSize = Math.max(1, params.batchSize ?? 4)
    const totals = {tokens: 0, nll: 0, referenceNll: 0, kl: 0, agree: 0}
    for (let at = 0; at < windows.rows.length; at += batchSize) {
      if (params.signal?.aborted === true) {
        throw new InterruptedError(`evaluation stopped after ${at}/${windows.rows.length} rows; nothing was written`)
      }
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
        const ref = await reference.run({inputIds: rows, layers: original, outputs: {logits: 'all'}})
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
      probe = {candidate, original: same ? candidate : await probeAccuracy({decoder: reference, tokenizer, items: params.probe, layers: original, batchSize})}
    }
    const loss = totals.nll / totals.tokens
    const originalLoss = totals.referenceNll / totals.tokens
    return {
      modelDir,
      ...(baseDir === undefined ? {} : {baseDir}),
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
      weightFormat: decoder.weightFormat,
    }
  } finally {
    await base?.release()
    await decoder.release()
  }
}

/** evaluateIter without progress events. */
export async function evaluate(params: EvaluateParams): Promise<EvalReport> {
  return drain(evaluateIter(params))
}
