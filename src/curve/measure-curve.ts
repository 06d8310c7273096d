import {DataError} from '../errors.js'
import {tokenWindows} from '../eval/token-windows.js'
import {openDecoderIter, type OpenDecoderEvent} from '../onnx/open-decoder.js'
import {loadTokenizer} from '../tokenizer/load-tokenizer.js'
import {readTensorShapes} from '../mergekit/read-tensor-shapes.js'
import {loadModelConfig} from '../model/load-model-config.js'
import {numLayersOf, resolveArchitecture} from '../architectures/registry.js'
import {parameterBreakdown} from '../scoring/parameter-count.js'
import {expansionCurveIter, type CurveEvent, type CurveReport, type ExpansionCurveParams} from '../scoring/expansion-curve.js'
import {createCurveEvaluator} from './curve-evaluator.js'

/**
 * `dlec curve` as a library call: opens the model's decoder, cuts the texts into rows exactly as
 * `evaluate()` does (same windows, same batches, so the numbers agree with `dlec eval`), builds the
 * prefix-caching evaluator and runs every strategy. Yields decoder-preparation and curve events.
 */
export interface MeasureCurveParams extends Omit<ExpansionCurveParams, 'evaluator' | 'breakdown'> {
  modelDir: string
  cacheDir: string
  texts: string[]
  /** Cap on evaluated tokens. */
  maxTokens?: number
  /** Rows per forward pass (default 4, as evaluate()). */
  batchSize?: number
  /** Tokens per row (default: the model's positions, at most 1024, as evaluate()). */
  windowSize?: number
  threads?: number
  /** Start each candidate from the cached hidden state before its first new layer (default true). */
  prefixCache?: boolean
  /** Byte budget of the cached hidden states (default 2 GiB): less memory, more layer runs, the same numbers. */
  cacheBytes?: number
}

export interface MeasuredCurve extends CurveReport {
  modelDir: string
  rows: number
  chunkedTexts: number
  truncated: boolean
  windowSize: number
}

export type MeasureCurveEvent = OpenDecoderEvent | CurveEvent

export async function* measureCurveIter(params: MeasureCurveParams): AsyncGenerator<MeasureCurveEvent, MeasuredCurve> {
  const config = await loadModelConfig(params.modelDir)
  const arch = resolveArchitecture(config, `${params.modelDir}/config.json`)
  const breakdown = parameterBreakdown({arch, config, shapes: await readTensorShapes({dir: params.modelDir}), source: params.modelDir})
  const tokenizer = loadTokenizer(params.modelDir)
  // one session per layer plus the embeddings and the head stay open for the whole curve
  const maxSessions = numLayersOf(config, arch) + 4
  const decoder = yield* openDecoderIter({modelDir: params.modelDir, cacheDir: params.cacheDir, threads: params.threads, maxSessions})
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
    const evaluator = await createCurveEvaluator({decoder, batches, prefixCache: params.prefixCache, cacheBytes: params.cacheBytes})
    const report = yield* expansionCurveIter({...params, evaluator, breakdown})
    return {
      ...report,
      modelDir: params.modelDir,
      rows: windows.rows.length,
      chunkedTexts: windows.chunkedTexts,
      truncated: windows.truncated,
      windowSize,
    }
  } finally {
    await decoder.release()
  }
}

/** measureCurveIter without progress events. */
export async function measureCurve(params: MeasureCurveParams): Promise<MeasuredCurve> {
  const it = measureCurveIter(params)
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}
