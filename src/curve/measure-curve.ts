import {MAX_MODEL_LAYERS} from '../architectures/registry.js'
import {DataError, UsageError} from '../errors.js'
import {assertStoreWritable} from '../store/open-store.js'
import {tokenWindows} from '../eval/token-windows.js'
import {openDecoderIter, type OpenDecoderEvent} from '../onnx/open-decoder.js'
import type {FormatDecision, QuantChoice} from '../onnx/weight-format.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import {modelOf, type ModelInput} from '../model/loaded-model.js'
import {decoderOptions, type DecoderOptions} from '../onnx/devices.js'
import {drain} from '../drain.js'
import {expansionCurveIter, type CurveEvent, type CurveReport, type ExpansionCurveParams} from './expansion-curve.js'
import {createCurveEvaluator} from './curve-evaluator.js'

/**
 * `dlec curve` as a library call: opens the model's decoder, cuts the texts into rows exactly as
 * `evaluate()` does (same windows, same batches, so the numbers agree with `dlec eval`), builds the
 * prefix-caching evaluator and runs every strategy. Yields decoder-preparation and curve events.
 */
export interface MeasureCurveParams extends Omit<ExpansionCurveParams, 'evaluator' | 'breakdown'>, ModelInput, DecoderOptions {
  texts: string[]
  /** Cap on evaluated tokens. */
  maxTokens?: number
  /** Rows per forward pass (default 4, as evaluate()). */
  batchSize?: number
  /** Tokens per row (default: the model's positions, at most 1024, as evaluate()). */
  windowSize?: number
  /** Start each candidate from the cached hidden state before its first new layer (default true). */
  prefixCache?: boolean
  /** Byte budget of the cached hidden states (default 2 GiB): less memory, more layer runs, the same numbers. */
  cacheBytes?: number
  /** The DuckDB file the caller records the result into: checked writable before any work. */
  store?: string
  /** Weight format the candidates are measured with (default auto); the plans stay exact. */
  quant?: QuantChoice
  /** Stops a weight-cache build. */
  signal?: AbortSignal
}

export interface MeasuredCurve extends CurveReport {
  modelDir: string
  rows: number
  chunkedTexts: number
  truncated: boolean
  windowSize: number
  /** The weight format the measurements ran, and why. */
  weightFormat: FormatDecision
}

export type MeasureCurveEvent = OpenDecoderEvent | CurveEvent

export async function* measureCurveIter(params: MeasureCurveParams): AsyncGenerator<MeasureCurveEvent, MeasuredCurve> {
  if (params.store !== undefined) {
    await assertStoreWritable(params.store)
  }
  const model = await modelOf(params)
  const {breakdown} = model
  const depth = model.numLayers
  if (!Number.isInteger(params.maxAdd) || params.maxAdd < 1 || params.maxAdd > MAX_MODEL_LAYERS - depth) {
    throw new UsageError(`--max-add must be a whole number from 1 to ${MAX_MODEL_LAYERS - depth} (dlec's limit of ${MAX_MODEL_LAYERS} layers; got ${params.maxAdd})`)
  }
  const tokenizer = loadTokenizer(model.location.dir)
  // one session per layer plus the embeddings and the head stay open for the whole curve
  const maxSessions = model.numLayers + 4
  const decoder = yield* openDecoderIter({...decoderOptions(params), model, maxSessions, signal: params.signal})
  try {
    const windowSize = Math.min(params.windowSize ?? 1024, decoder.spec.maxPositions)
    const windows = tokenWindows({tokenizer, texts: params.texts, windowSize, maxTokens: params.maxTokens})
    if (windows.rows.length === 0) {
      throw new DataError(`the evaluation data has no text of 2 or more tokens (${params.texts.length} texts)`)
    }
    const batchSize = Math.max(1, params.batchSize ?? 4)
    const batches: number[][][] = []
    for (let at = 0; at < windows.rows.length; at += batchSize) {
      batches.push(windows.rows.slice(at, at + batchSize))
    }
    const evaluator = await createCurveEvaluator({decoder, batches, prefixCache: params.prefixCache, cacheBytes: params.cacheBytes, bootstrap: params.bootstrap})
    const report = yield* expansionCurveIter({...params, evaluator, breakdown})
    return {
      ...report,
      modelDir: model.location.dir,
      rows: windows.rows.length,
      chunkedTexts: windows.chunkedTexts,
      truncated: windows.truncated,
      windowSize,
      weightFormat: decoder.weightFormat,
    }
  } finally {
    await decoder.release()
  }
}

/** measureCurveIter without progress events. */
export async function measureCurve(params: MeasureCurveParams): Promise<MeasuredCurve> {
  return drain(measureCurveIter(params))
}
