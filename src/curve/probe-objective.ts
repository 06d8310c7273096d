import type {Decoder} from '../onnx/open-decoder.js'
import type {TextTokenizer} from '../tokenizer/load-tokenizer.js'
import {probeAccuracy, probeScoreOf, type ProbeItem, type ProbeScore} from '../eval/probe.js'
import type {CurveEvaluator, MeasureOptions} from './curve-evaluator.js'
import type {Measurement} from './expansion-search.js'

/**
 * Probes as an objective: multiple-choice log-likelihood accuracy of a layer sequence, scored by
 * `probeAccuracy` (the code of `dlec eval --probe`) on the curve's own decoder, so a candidate runs
 * on the same per-layer sessions as its KL measurement (zero-copy, nothing rebuilt). The accuracy
 * carries its 95% Wilson interval. KL stays measured beside it as the guard-rail of `--max-kl`.
 */
export {probeScoreOf, type ProbeScore}

export interface ProbeScorer {
  /** The original model's score. */
  readonly base: ProbeScore
  score(layers: readonly number[]): Promise<ProbeScore>
}

export async function createProbeScorer(params: {decoder: Decoder; tokenizer: TextTokenizer; items: ProbeItem[]; batchSize: number}): Promise<ProbeScorer> {
  const score = async (layers: readonly number[]): Promise<ProbeScore> => {
    const r = await probeAccuracy({...params, layers: [...layers]})
    return probeScoreOf(r.correct ?? Math.round(r.accuracy * r.items), r.items)
  }
  const base = await score(Array.from({length: params.decoder.spec.numLayers}, (_, i) => i))
  return {base, score}
}

/** The evaluator with each measurement's probe score added (`measurement.probe`). */
export function withProbe(evaluator: CurveEvaluator, scorer: ProbeScorer): CurveEvaluator {
  const known = new Map<string, Promise<ProbeScore>>()
  // every other member (numLayers, tokens, layersRun, rows, remember, ...) is the evaluator's own,
  // read through the prototype, so live counters stay live
  const wrapped = Object.create(evaluator) as CurveEvaluator
  return Object.assign(wrapped, {
    async measure(layers: readonly number[], options?: MeasureOptions): Promise<Measurement> {
      const m = await evaluator.measure(layers, options)
      // the probe items are scored once per sequence (racing measures a sequence on several row
      // ranges); soft copies (scaled positions) are not probe-scored: the scorer runs unscaled layers
      if (options?.scales?.some((s) => s !== undefined) === true) {
        return m
      }
      const key = layers.join(',')
      const score = known.get(key) ?? scorer.score(layers)
      known.set(key, score)
      return {...m, probe: await score}
    },
  })
}

/** A candidate whose probe score beats the original's while its KL exceeds the --max-kl guard. */
export interface GuardFlag {
  label: string
  layers: number[]
  kl: number
  accuracy: number
  baseAccuracy: number
  maxKl: number
}

export function guardFlags(candidates: readonly {label: string; layers: number[]; measurement: Measurement}[], base: ProbeScore, maxKl: number | undefined): GuardFlag[] {
  if (maxKl === undefined) {
    return []
  }
  return candidates
    .filter((c) => c.measurement.probe !== undefined && c.measurement.probe.accuracy > base.accuracy && c.measurement.kl > maxKl)
    .map((c) => ({label: c.label, layers: c.layers, kl: c.measurement.kl, accuracy: (c.measurement.probe as ProbeScore).accuracy, baseAccuracy: base.accuracy, maxKl}))
}
