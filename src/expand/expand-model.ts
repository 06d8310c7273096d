import {resolve} from 'node:path'
import {drain} from '../drain.js'
import {modelOf} from '../model/loaded-model.js'
import {decoderOptions} from '../onnx/devices.js'
import {evaluateIter, type EvaluateEvent} from '../eval/evaluate.js'
import {mergeModelIter, type MergeEngine, type MergeReport} from '../merge/merge-model.js'
import type {MergeEvent} from '../merge/merge-event.js'
import type {ModelLookup} from '../model/resolve-model.js'
import {refuseExistingOutput} from '../merge/staging-dir.js'
import {planExpansionIter, type PlanExpansionParams, type PlanReport} from '../curve/plan-expansion.js'
import type {MeasureCurveEvent} from '../curve/measure-curve.js'
import type {MeasuredCardParams} from '../publish/measured-card.js'
import {writeMeasuredCard} from '../publish/write-measured-card.js'

/**
 * `dlec expand`: the whole pipeline in one call. Plans the expansion (measured on the texts, or by
 * construction for identity copies), writes the mergekit YAML, merges it (mergekit-yaml or the
 * native engine), then evaluates the merged folder on the same texts and checks that its loss is
 * the one the zero-copy plan predicted: the merge is judged by measurement, not trusted.
 */
export interface ExpandParams extends Omit<PlanExpansionParams, 'out'> {
  /** Output model folder. */
  out: string
  engine?: MergeEngine
  force?: boolean
  outShardSize?: number
  mergekitPath?: string
  pathEnv?: string
  /** How the merge finds the plan's model when it is a Hub id (the HF cache, offline mode, token). */
  modelLookup: ModelLookup
  signal?: AbortSignal
  /** The measured model card written into OUT (README.md + images/) after the check, replacing the merge's card. */
  card?: Pick<MeasuredCardParams, 'name' | 'baseModel' | 'license' | 'data' | 'search'>
}

export interface ExpandReport {
  plan: PlanReport
  merge: MergeReport
  /** The merged folder evaluated on the same texts (absent when no texts were given). */
  check?: {
    loss: number
    perplexity: number
    tokens: number
    /** |merged loss - loss the plan measured zero-copy|: ~1e-6 when the merge is the planned model (absent for identity plans, judged by construction). */
    planLossError?: number
  }
  /** Files of the measured card written into OUT (README.md, images/...). */
  cardFiles?: string[]
}

export type ExpandEvent =
  | {type: 'phase'; phase: 'plan' | 'merge' | 'check'; model?: string}
  | MeasureCurveEvent
  | MergeEvent
  | EvaluateEvent

export async function* expandModelIter(params: ExpandParams): AsyncGenerator<ExpandEvent, ExpandReport> {
  // Checked before the (possibly long) measurements, and again by the merge itself.
  refuseExistingOutput(params.out, params.force)
  const model = await modelOf(params)
  yield {type: 'phase', phase: 'plan'}
  const plan = yield* planExpansionIter({...params, model, out: undefined})
  yield {type: 'phase', phase: 'merge'}
  const merge: MergeReport = yield* mergeModelIter({
    config: {config: plan.config, text: plan.yaml},
    out: params.out,
    engine: params.engine ?? 'auto',
    outShardSize: params.outShardSize ?? 5_000_000_000,
    force: params.force,
    mergekitPath: params.mergekitPath,
    pathEnv: params.pathEnv,
    lookup: params.modelLookup,
    signal: params.signal,
  })
  const withCard = async (report: ExpandReport): Promise<ExpandReport> =>
    params.card === undefined
      ? report
      : {...report, cardFiles: await writeMeasuredCard({...params.card, dir: resolve(params.out), plan, check: report.check, engine: merge.engine})}
  if (params.texts === undefined) {
    return withCard({plan, merge})
  }
  yield {type: 'phase', phase: 'check'}
  const merged = yield* evaluateIter({
    ...decoderOptions(params),
    modelDir: resolve(params.out),
    texts: params.texts,
    maxTokens: params.maxTokens,
    batchSize: params.batchSize,
    windowSize: params.windowSize,
    // the same weight format as the plan's measurement, so the loss check compares like with like
    quant: plan.weightFormat?.format ?? params.quant,
    signal: params.signal,
  })
  return withCard({
    plan,
    merge,
    check: {
      loss: merged.loss,
      perplexity: merged.perplexity,
      tokens: merged.tokens,
      planLossError: plan.loss === undefined ? undefined : Math.abs(merged.loss - plan.loss),
    },
  })
}

/** expandModelIter without progress events. */
export async function expandModel(params: ExpandParams): Promise<ExpandReport> {
  return drain(expandModelIter(params))
}
