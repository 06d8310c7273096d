import {rename, writeFile} from 'node:fs/promises'
import {UsageError} from '../errors.js'
import {resolveArchitecture} from '../architectures/registry.js'
import {readTensorShapes} from '../mergekit/read-tensor-shapes.js'
import {layerSequenceToConfig} from '../mergekit/layer-sequence-to-config.js'
import {toYaml} from '../mergekit/to-yaml.js'
import type {MergeConfig} from '../mergekit/merge-config.js'
import {loadModelConfig} from '../model/load-model-config.js'
import {identityPlacement} from './identity-strategy.js'
import {measureCurveIter, type MeasureCurveEvent, type MeasureCurveParams} from './measure-curve.js'
import type {CurvePoint} from '../scoring/expansion-curve.js'
import {expandLayers, type Duplication} from '../scoring/layer-plan.js'
import {baseParameterCount, parameterBreakdown, sequenceParameterCount} from '../scoring/parameter-count.js'
import {resolveTargetSize, type ResolvedTarget, type TargetSize} from '../scoring/target-size.js'
import type {StrategyName} from '../scoring/strategies.js'

/**
 * `dlec plan` as a library call: resolves the target size to a number of added layers, lets the
 * strategy choose the duplications (measuring them on the texts, except `identity`, whose copies
 * are exact identities), and writes the mergekit passthrough YAML (temp file, then rename).
 */
export interface PlanExpansionParams extends Omit<MeasureCurveParams, 'strategies' | 'maxAdd' | 'texts'> {
  /** How the model is named in the YAML (Hub id, or the folder). */
  modelRef: string
  target: TargetSize
  strategy: StrategyName
  /** Evaluation texts; required by every strategy except `identity`. */
  texts?: string[]
  dtype?: string
  /** Where to write the YAML; nothing is written when absent. */
  out?: string
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
  paramsBefore: number
  paramsAfter: number
  /** How the plan was judged: measured on the data, by construction (identity), or from the store. */
  source: 'measured' | 'construction' | 'store'
  kl: number
  /** Mean loss of the expanded model on the data (absent for identity plans, which keep the original's). */
  loss?: number
  lossDelta: number
  top1: number
  tokens?: number
  config: MergeConfig
  yaml: string
  out?: string
}

export async function* planExpansionIter(params: PlanExpansionParams): AsyncGenerator<MeasureCurveEvent, PlanReport> {
  const modelConfig = await loadModelConfig(params.modelDir)
  const arch = resolveArchitecture(modelConfig, `${params.modelDir}/config.json`)
  const breakdown = parameterBreakdown({arch, config: modelConfig, shapes: await readTensorShapes({dir: params.modelDir}), source: params.modelDir})
  const target = resolveTargetSize({breakdown, target: params.target})
  const numLayers = breakdown.perLayer.length
  const k = target.addLayers
  let chosen: {duplications: Duplication[]; kl: number; loss?: number; lossDelta: number; top1: number; tokens?: number; source: PlanReport['source']}
  if (params.storedPoint) {
    const known = await params.storedPoint(params.strategy, k)
    if (!known) {
      throw new UsageError(`the store has no ${params.strategy} curve point with ${k} added layers for this model: run \`dlec curve\` with --max-add ${k} first (same --db${params.texts ? ' and --data' : ''})`)
    }
    chosen = {...known, loss: known.measured ? known.loss : undefined, source: 'store'}
  } else if (params.strategy === 'identity') {
    chosen = {duplications: identityPlacement({numLayers, k}), kl: 0, lossDelta: 0, top1: 1, source: 'construction'}
  } else {
    if (params.texts === undefined) {
      throw new UsageError(`--data is required: strategy ${params.strategy} measures its choice on evaluation text`)
    }
    const curve = yield* measureCurveIter({...params, texts: params.texts, strategies: [params.strategy], maxAdd: k})
    const point = curve.points.find((p) => p.added === k)
    if (!point) {
      throw new UsageError(`${params.strategy} found no expansion of exactly ${k} layers with blocks of ${(params.blockSizes ?? [1]).join('/')} (include 1 in --block-sizes)`)
    }
    chosen = {...point, tokens: curve.tokens, source: 'measured'}
  }
  const layers = expandLayers(numLayers, chosen.duplications)
  const identityCopies = params.strategy === 'identity'
  const config = layerSequenceToConfig({model: params.modelRef, layers, dtype: params.dtype, identityCopies, arch})
  const yaml = toYaml(config)
  if (params.out !== undefined) {
    const tmp = `${params.out}.tmp-${process.pid}`
    await writeFile(tmp, yaml)
    await rename(tmp, params.out)
  }
  return {
    model: params.modelRef,
    strategy: params.strategy,
    target,
    duplications: chosen.duplications,
    layers,
    identityCopies,
    paramsBefore: baseParameterCount(breakdown),
    paramsAfter: sequenceParameterCount(breakdown, layers),
    source: chosen.source,
    kl: chosen.kl,
    loss: chosen.loss,
    lossDelta: chosen.lossDelta,
    top1: chosen.top1,
    tokens: chosen.tokens,
    config,
    yaml,
    out: params.out,
  }
}

export async function planExpansion(params: PlanExpansionParams): Promise<PlanReport> {
  const it = planExpansionIter(params)
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}
