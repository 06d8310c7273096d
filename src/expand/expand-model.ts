import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {evaluateIter, type EvaluateEvent} from '../eval/evaluate.js'
import {mergeModel, type MergeEngine, type MergeReport} from '../merge/merge-model.js'
import type {MergeEvent} from '../merge/merge-event.js'
import type {ModelLookup} from '../merge/prepare-native-merge.js'
import {refuseExistingOutput} from '../merge/staging-dir.js'
import {planExpansionIter, type PlanExpansionParams, type PlanReport} from '../curve/plan-expansion.js'
import type {MeasureCurveEvent} from '../curve/measure-curve.js'

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
  modelLookup: ModelLookup
  signal?: AbortSignal
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
}

export type ExpandEvent =
  | {type: 'phase'; phase: 'plan' | 'merge' | 'check'}
  | MeasureCurveEvent
  | MergeEvent
  | EvaluateEvent

export async function* expandModelIter(params: ExpandParams): AsyncGenerator<ExpandEvent, ExpandReport> {
  // Checked before the (possibly long) measurements, and again by the merge itself.
  refuseExistingOutput(params.out, params.force)
  yield {type: 'phase', phase: 'plan'}
  const plan = yield* planExpansionIter({...params, out: undefined})
  const work = await mkdtemp(join(tmpdir(), 'dlec-expand-'))
  try {
    const yamlPath = join(work, 'plan.yaml')
    await writeFile(yamlPath, plan.yaml)
    yield {type: 'phase', phase: 'merge'}
    const merge: MergeReport = yield* mergeModel({
      config: yamlPath,
      out: params.out,
      engine: params.engine ?? 'auto',
      outShardSize: params.outShardSize ?? 5_000_000_000,
      force: params.force,
      mergekitPath: params.mergekitPath,
      pathEnv: params.pathEnv,
      lookup: params.modelLookup,
      signal: params.signal,
    })
    if (params.texts === undefined) {
      return {plan, merge}
    }
    yield {type: 'phase', phase: 'check'}
    const merged = yield* evaluateIter({
      modelDir: resolve(params.out),
      cacheDir: params.cacheDir,
      texts: params.texts,
      maxTokens: params.maxTokens,
      batchSize: params.batchSize,
      windowSize: params.windowSize,
      threads: params.threads,
    })
    return {
      plan,
      merge,
      check: {
        loss: merged.loss,
        perplexity: merged.perplexity,
        tokens: merged.tokens,
        planLossError: plan.loss === undefined ? undefined : Math.abs(merged.loss - plan.loss),
      },
    }
  } finally {
    await rm(work, {recursive: true, force: true})
  }
}
