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
import {strategyOf} from './strategies.js'
import type {ProbeItem} from '../eval/probe.js'
import {createHoldoutCheck, type HoldoutCheck, type HoldoutFigure} from './holdout-check.js'
import {createProbeScorer, guardFlags, withProbe, type GuardFlag, type ProbeScore} from './probe-objective.js'
import {formatDuplications} from './layer-plan.js'

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
  /** Held-out texts: every measured curve point is re-measured on them, with 95% bootstrap intervals. */
  holdout?: {texts: string[]; source: string}
  /** Seed of the bootstrap resamples of the held-out figures (default 0). */
  seed?: number
  /** Multiple-choice items: every candidate's probe accuracy is measured (required by objective `probe`). */
  probe?: ProbeItem[]
}

export interface MeasuredCurve extends CurveReport {
  modelDir: string
  rows: number
  chunkedTexts: number
  truncated: boolean
  windowSize: number
  /** The weight format the measurements ran, and why. */
  weightFormat: FormatDecision
  /** The held-out part the points were re-measured on (with --holdout / --holdout-split). */
  holdout?: Pick<HoldoutCheck, 'source' | 'texts' | 'rows' | 'tokens' | 'baseLoss'>
  /** The probe items' score of the original model, and the --max-kl guard. */
  probe?: {base: ProbeScore; maxKl?: number}
  /** Candidates whose probe score beats the original's while their KL exceeds --max-kl. */
  flagged?: GuardFlag[]
}

export type MeasureCurveEvent = OpenDecoderEvent | CurveEvent

export async function* measureCurveIter(params: MeasureCurveParams): AsyncGenerator<MeasureCurveEvent, MeasuredCurve> {
  if (params.store !== undefined) {
    await assertStoreWritable(params.store)
  }
  if (params.objective === 'probe' && params.probe === undefined) {
    throw new UsageError('--objective probe needs --probe FILE (multiple-choice items, JSONL)')
  }
  if (params.maxKl !== undefined && !(params.maxKl >= 0)) {
    throw new UsageError(`--max-kl must be a non-negative number (got ${params.maxKl})`)
  }
  const model = await modelOf(params)
  const {breakdown} = model
  const depth = model.numLayers
  if (!Number.isInteger(params.maxAdd) || params.maxAdd < 1 || params.maxAdd > MAX_MODEL_LAYERS - depth) {
    throw new UsageError(`--max-add must be a whole number from 1 to ${MAX_MODEL_LAYERS - depth} (dlec's limit of ${MAX_MODEL_LAYERS} layers; got ${params.maxAdd})`)
  }
  const tokenizer = loadTokenizer(model.location.dir)
  // one session per layer plus the embeddings and the head stay open for the whole curve; soft
  // copies add one scaled session per copied layer
  const soft = params.strategies.some((s) => {
    const st = strategyOf(s)
    return st.kind === 'placement' && st.softCopies === true
  })
  const maxSessions = model.numLayers * (soft ? 2 : 1) + 4
  const decoder = yield* openDecoderIter({...decoderOptions(params), model, maxSessions, signal: params.signal})
  try {
    const windowSize = Math.min(params.windowSize ?? 1024, decoder.spec.maxPositions)
    const windows = tokenWindows({tokenizer, texts: params.texts, windowSize, maxTokens: params.maxTokens})
    if (windows.rows.length === 0) {
      const which = params.holdout === undefined ? 'the evaluation data' : `the selection part of the data (held out: ${params.holdout.source})`
      throw new DataError(`${which} has no text of 2 or more tokens (${params.texts.length} texts)`)
    }
    const batchSize = Math.max(1, params.batchSize ?? 4)
    const batchesOf = (rows: number[][]): number[][][] => {
      const out: number[][][] = []
      for (let at = 0; at < rows.length; at += batchSize) {
        out.push(rows.slice(at, at + batchSize))
      }
      return out
    }
    let holdout: HoldoutCheck | undefined
    if (params.holdout !== undefined) {
      const held = tokenWindows({tokenizer, texts: params.holdout.texts, windowSize, maxTokens: params.maxTokens})
      if (held.rows.length === 0) {
        throw new DataError(`${params.holdout.source}: the held-out part has no text of 2 or more tokens (${params.holdout.texts.length} texts)`)
      }
      holdout = await createHoldoutCheck({decoder, batches: batchesOf(held.rows), source: params.holdout.source, texts: params.holdout.texts.length, seed: params.seed})
    }
    const scorer = params.probe === undefined ? undefined : await createProbeScorer({decoder, tokenizer, items: params.probe, batchSize})
    const kl = await createCurveEvaluator({decoder, batches: batchesOf(windows.rows), prefixCache: params.prefixCache, cacheBytes: params.cacheBytes, bootstrap: params.bootstrap})
    const evaluator = scorer === undefined ? kl : withProbe(kl, scorer)
    const report = yield* expansionCurveIter({...params, evaluator, breakdown})
    if (holdout !== undefined) {
      const check = holdout
      const known = new Map<string, Promise<HoldoutFigure>>()
      for (const p of report.points) {
        if (p.measured) {
          const key = p.layers.join(',')
          const figure = known.get(key) ?? check.measure(p.layers)
          known.set(key, figure)
          p.holdout = await figure
        }
      }
    }
    const flagged = scorer === undefined ? [] : guardFlags(report.evaluations.map((e) => ({...e, label: formatDuplications(e.duplications)})), scorer.base, params.maxKl)
    return {
      ...report,
      modelDir: model.location.dir,
      rows: windows.rows.length,
      chunkedTexts: windows.chunkedTexts,
      truncated: windows.truncated,
      windowSize,
      weightFormat: decoder.weightFormat,
      ...(holdout === undefined ? {} : {holdout: {source: holdout.source, texts: holdout.texts, rows: holdout.rows, tokens: holdout.tokens, baseLoss: holdout.baseLoss}}),
      ...(scorer === undefined ? {} : {probe: {base: scorer.base, ...(params.maxKl === undefined ? {} : {maxKl: params.maxKl})}, flagged}),
    }
  } finally {
    await decoder.release()
  }
}

/** measureCurveIter without progress events. */
export async function measureCurve(params: MeasureCurveParams): Promise<MeasuredCurve> {
  return drain(measureCurveIter(params))
}
