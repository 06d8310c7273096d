import {intervalsOf} from './expansion-search.js'
import {existsSync, statSync} from 'node:fs'
import {realpath} from 'node:fs/promises'
import {join, resolve, sep} from 'node:path'
import {UsageError} from '../errors.js'
import {realOutputPath} from '../merge/staging-dir.js'
import {assertStoreWritable} from '../store/open-store.js'
import {fsReason, isOutOfSpace} from '../util/fs-error.js'
import {drain} from '../drain.js'
import {writeFileAtomic} from '../fs/write-atomic.js'
import {modelOf} from '../model/loaded-model.js'
import {layerSequenceToConfig} from '../mergekit/layer-sequence-to-config.js'
import {toYaml} from '../mergekit/to-yaml.js'
import type {MergeConfig} from '../mergekit/merge-config.js'
import {renderPlanFormat, type PlanFormat} from './plan-format.js'
import {measureCurveIter, type MeasureCurveEvent, type MeasureCurveParams} from './measure-curve.js'
import type {CurvePoint, CurveReport, NoiseTie, RacingSummary} from './expansion-curve.js'
import type {Interval} from '../eval/bootstrap.js'
import {expandLayers, formatDuplications, type Duplication} from './layer-plan.js'
import {baseParameterCount, sequenceParameterCount} from '../model/parameter-count.js'
import {resolveTargetSize, type ResolvedTarget, type TargetSize} from './target-size.js'
import {strategyOf, type StrategyName} from './strategies.js'
import type {FormatDecision} from '../onnx/weight-format.js'
import type {HoldoutFigure} from './holdout-check.js'
import type {GuardFlag, ProbeScore} from './probe-objective.js'

/**
 * `dlec plan` as a library call: resolves the target size to a number of added layers, lets the
 * strategy choose the duplications (measuring them on the texts, except `identity`, whose copies
 * are exact identities), and writes the mergekit passthrough YAML (temp file, then rename).
 */
export interface PlanExpansionParams extends Omit<MeasureCurveParams, 'strategies' | 'maxAdd' | 'texts'> {
  /** How the model is named in the YAML (default: the loaded model's Hub id, or its folder's absolute path). */
  modelRef?: string
  target: TargetSize
  strategy: StrategyName
  /** Evaluation texts; required by every strategy except `identity`. */
  texts?: string[]
  dtype?: string
  /** Where to write the plan; nothing is written when absent. */
  out?: string
  /** What to write to `out` (default mergekit YAML). */
  format?: PlanFormat
  /** Looks up a point measured earlier (the store, `--from-db`); when given, nothing is measured. */
  storedPoint?: (strategy: StrategyName, added: number) => Promise<CurvePoint | undefined>
}

export interface PlanReport {
  model: string
  strategy: StrategyName
  target: ResolvedTarget
  duplications: Duplication[]
  layers: number[]
  identityCopies: boolean
  /** Soft copies: the α the copies' output projections are scaled by in the YAML (absent: not a soft plan). */
  alpha?: number
  paramsBefore: number
  paramsAfter: number
  /** How the plan was judged: measured on the data, by construction (identity), or from the store. */
  source: 'measured' | 'construction' | 'store'
  kl: number
  /** Mean loss of the expanded model on the data (absent for identity plans, which keep the original's). */
  loss?: number
  lossDelta: number
  top1: number
  /** 95% paired-bootstrap intervals of the plan's measurement (absent by construction). */
  klCi?: Interval
  lossDeltaCi?: Interval
  top1Ci?: Interval
  /** The choice was within noise: the runner-up could not be told apart from it. */
  tie?: NoiseTie
  /** What racing did while measuring (absent when nothing was measured). */
  racing?: RacingSummary & {layersRun: number}
  tokens?: number
  config: MergeConfig
  yaml: string
  out?: string
  format: PlanFormat
  /** The measured curve the choice came from (its points, per-layer Block Influence and the base loss), when measured. */
  curve?: Pick<CurveReport, 'points' | 'baseParams' | 'baseLoss' | 'blockInfluence' | 'tokens' | 'numLayers'>
  /** The weight format the plan was measured with (absent when nothing was measured). The YAML names the original weights either way. */
  weightFormat?: FormatDecision
  /** The plan re-measured on the held-out texts (with --holdout / --holdout-split): its quality. */
  holdout?: HoldoutFigure
  /** The plan's probe accuracy and the original's (with --probe). */
  probe?: {plan: ProbeScore; base: ProbeScore; maxKl?: number}
  /** Candidates whose probe score beats the original's while their KL exceeds --max-kl. */
  flagged?: GuardFlag[]
  /** The figure to judge the plan by: the held-out one when there is one, else the selection data's (kl, lossDelta, top1 above). */
  quality: PlanQuality
}

export interface PlanQuality {
  split: 'holdout' | 'selection'
  kl: number
  klCi?: Interval
  loss?: number
  lossDelta: number
  lossDeltaCi?: Interval
  top1: number
  top1Ci?: Interval
  tokens?: number
}

/** The plan's quality figure: held-out when measured so, else the selection figure. */
export function planQuality(r: Pick<PlanReport, 'holdout' | 'kl' | 'loss' | 'lossDelta' | 'top1' | 'tokens' | 'klCi' | 'lossDeltaCi' | 'top1Ci'>): PlanQuality {
  const h = r.holdout
  if (h !== undefined) {
    return {split: 'holdout', kl: h.kl, klCi: h.klCi, loss: h.loss, lossDelta: h.lossDelta, lossDeltaCi: h.lossDeltaCi, top1: h.top1, top1Ci: h.top1Ci, tokens: h.tokens}
  }
  const ci = intervalsOf(r)
  return {split: 'selection', kl: r.kl, ...(r.loss === undefined ? {} : {loss: r.loss}), lossDelta: r.lossDelta, top1: r.top1, ...(r.tokens === undefined ? {} : {tokens: r.tokens}), ...ci}
}

export async function* planExpansionIter(params: PlanExpansionParams): AsyncGenerator<MeasureCurveEvent, PlanReport> {
  const model = await modelOf(params)
  if (params.out !== undefined) {
    await refuseYamlIntoModel(params.out, model.location.dir)
  }
  if (params.store !== undefined) {
    await assertStoreWritable(params.store)
  }
  const {arch, breakdown} = model
  const modelRef = params.modelRef ?? model.reference
  const target = resolveTargetSize({breakdown, target: params.target})
  const numLayers = breakdown.perLayer.length
  const strategy = strategyOf(params.strategy)
  // Identity copies are exact by construction: nothing to measure.
  const exact = strategy.kind === 'placement' && !strategy.measured ? strategy : undefined
  const k = target.addLayers
  let measured: PlanReport['curve']
  let chosen: {duplications: Duplication[]; kl: number; loss?: number; lossDelta: number; top1: number; tokens?: number; source: PlanReport['source']; weightFormat?: FormatDecision; alpha?: number; holdout?: HoldoutFigure; probe?: ProbeScore; klCi?: Interval; lossDeltaCi?: Interval; top1Ci?: Interval; tie?: NoiseTie; racing?: PlanReport['racing']}
  let probeOf: Pick<PlanReport, 'probe' | 'flagged'> = {}
  if (params.storedPoint && (params.holdout !== undefined || params.probe !== undefined)) {
    throw new UsageError(`--from-db takes a stored point without measuring: ${params.holdout !== undefined ? 'a held-out re-check (--holdout, --holdout-split)' : '--probe'} needs a measured plan (drop --from-db)`)
  }
  if (params.storedPoint) {
    const known = await params.storedPoint(params.strategy, k)
    if (!known) {
      throw new UsageError(`the store has no ${params.strategy} curve point with ${k} added layers for this model: run \`dlec curve\` with --max-add ${k} first (same --db${params.texts ? ' and --data' : ''})`)
    }
    chosen = {...known, loss: known.measured ? known.loss : undefined, source: 'store'}
  } else if (exact !== undefined) {
    chosen = {duplications: exact.place({numLayers, band: {start: 0, end: numLayers}, blockInfluence: [], dlecFlagged: []}, k), kl: 0, lossDelta: 0, top1: 1, source: 'construction'}
  } else {
    if (params.texts === undefined) {
      throw new UsageError(`--data is required: strategy ${params.strategy} measures its choice on evaluation text`)
    }
    const curve = yield* measureCurveIter({...params, model, texts: params.texts, strategies: [params.strategy], maxAdd: k})
    const point = curve.points.find((p) => p.added === k)
    if (!point) {
      const guard = params.maxKl === undefined ? '' : ` within --max-kl ${params.maxKl}`
      throw new UsageError(`${params.strategy} found no expansion of exactly ${k} layers${guard} with blocks of ${(params.blockSizes ?? [1]).join('/')} (include 1 in --block-sizes${guard === '' ? '' : ', or raise --max-kl'})`)
    }
    if (params.maxKl !== undefined && point.kl > params.maxKl) {
      throw new UsageError(`${params.strategy} places ${k} layers at ${formatDuplications(point.duplications)} with mean KL ${point.kl.toFixed(5)}, over --max-kl ${params.maxKl}: no plan written`)
    }
    const tie = curve.ties.find((t) => t.added === k)
    // racing is a search's: a placement strategy measures its one plan per size, nothing to race
    chosen = {...point, tokens: curve.tokens, source: 'measured', weightFormat: curve.weightFormat, ...(strategy.kind === 'search' ? {racing: {...curve.racing, layersRun: curve.layersRun}} : {}), ...(tie ? {tie} : {})}
    if (curve.probe !== undefined && point.probe !== undefined) {
      probeOf = {probe: {plan: point.probe, base: curve.probe.base, ...(curve.probe.maxKl === undefined ? {} : {maxKl: curve.probe.maxKl})}, flagged: curve.flagged ?? []}
    }
    measured = {points: curve.points, baseParams: curve.baseParams, baseLoss: curve.baseLoss, blockInfluence: curve.blockInfluence, tokens: curve.tokens, numLayers: curve.numLayers}
  }
  const layers = expandLayers(numLayers, chosen.duplications)
  const alpha = chosen.alpha
  const identityCopies = exact !== undefined || alpha === 0
  const config = layerSequenceToConfig({model: modelRef, layers, dtype: params.dtype, identityCopies, copyScale: alpha, arch})
  const yaml = toYaml(config)
  if (params.out !== undefined) {
    try {
      await writeFileAtomic(params.out, renderPlanFormat({format: params.format ?? 'mergekit', layers, yaml, model: modelRef, identityCopies, copyScale: alpha}))
    } catch (error) {
      throw new UsageError(`${params.out}: cannot write the plan (${fsReason(error)})`, isOutOfSpace(error) ? 'DLEC_OUT_NO_SPACE' : 'DLEC_OUT_WRITE')
    }
  }
  const report = {
    model: modelRef,
    strategy: params.strategy,
    target,
    duplications: chosen.duplications,
    layers,
    identityCopies,
    ...(alpha === undefined ? {} : {alpha}),
    paramsBefore: baseParameterCount(breakdown),
    paramsAfter: sequenceParameterCount(breakdown, layers),
    source: chosen.source,
    kl: chosen.kl,
    loss: chosen.loss,
    lossDelta: chosen.lossDelta,
    top1: chosen.top1,
    ...intervalsOf(chosen),
    ...(chosen.tie ? {tie: chosen.tie} : {}),
    ...(chosen.racing ? {racing: chosen.racing} : {}),
    tokens: chosen.tokens,
    config,
    yaml,
    out: params.out,
    format: params.format ?? 'mergekit',
    ...(measured === undefined ? {} : {curve: measured}),
    ...(chosen.weightFormat === undefined ? {} : {weightFormat: chosen.weightFormat}),
    ...(chosen.holdout === undefined ? {} : {holdout: chosen.holdout}),
    ...probeOf,
  }
  return {...report, quality: planQuality(report)}
}

/** The plan YAML must not land inside the model folder (e.g. `--out MODEL/config.json`) nor replace a folder. */
async function refuseYamlIntoModel(out: string, modelDir: string): Promise<void> {
  const model = [resolve(modelDir), await realpath(modelDir).catch(() => resolve(modelDir))]
  const target = [resolve(out), await realOutputPath(out)]
  if (target.some((t) => model.some((m) => t === m || t.startsWith(m + sep)))) {
    throw new UsageError(`--out ${out} is inside the model folder ${modelDir}: the plan would overwrite the model's own files; write it elsewhere`, 'DLEC_OUT_IN_MODEL')
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    throw new UsageError(`--out ${out} is a folder; give the plan a file name (e.g. ${join(out, 'plan.yaml')})`, 'DLEC_OUT_IS_DIR')
  }
}

export async function planExpansion(params: PlanExpansionParams): Promise<PlanReport> {
  return drain(planExpansionIter(params))
}
