import {UsageError} from '../errors.js'
import {candidateBand, candidateBlocks, type CandidateSpec} from '../curve/candidate-blocks.js'
import type {CurveEvaluator} from '../curve/curve-evaluator.js'
import {dlecOriginalPlacement} from '../curve/dlec-original-strategy.js'
import {searchExpansions, type Measurement, type Objective} from '../curve/expansion-search.js'
import {identityPlacement} from '../curve/identity-strategy.js'
import {scoreCurvePlacement, weightsFromBlockInfluence} from '../curve/score-curve-strategy.js'
import {addedLayers, expandLayers, formatDuplications, type Duplication} from './layer-plan.js'
import {sequenceParameterCount, type ParameterBreakdown} from './parameter-count.js'
import type {StrategyName} from './strategies.js'

/**
 * The measured expansion curve: for each strategy, the expansion it picks at 1, 2, … K added
 * layers, and its measured quality against the original (mean KL(original || expanded) per token,
 * loss change, top-1 agreement) with its parameter count. Every distinct layer sequence is measured
 * once (strategies share measurements); every measured candidate is returned for the store and the
 * heat-map. `identity` points are KL 0 by construction and marked unmeasured.
 */
export interface CurvePoint {
  strategy: StrategyName
  added: number
  duplications: Duplication[]
  layers: number[]
  params: number
  measured: boolean
  kl: number
  loss: number
  lossDelta: number
  top1: number
}

export interface EvaluatedCandidate {
  /** The strategy whose choice or search first asked for this sequence (`sweep`: the heat-map). */
  strategy: StrategyName | 'sweep'
  duplications: Duplication[]
  layers: number[]
  added: number
  params: number
  measurement: Measurement
}

export interface CurveReport {
  numLayers: number
  tokens: number
  baseLoss: number
  baseParams: number
  blockInfluence: number[]
  points: CurvePoint[]
  evaluations: EvaluatedCandidate[]
  /** Measured effect of duplicating each single block [i, j) (the RYS-style heat-map). */
  blocks: {start: number; end: number; kl: number; lossDelta: number; top1: number}[]
  layersRun: number
}

export type CurveEvent =
  | {type: 'evaluated'; strategy: StrategyName | 'sweep'; label: string; evaluations: number; measurement: Measurement}
  | {type: 'point'; point: CurvePoint}

export interface ExpansionCurveParams {
  evaluator: CurveEvaluator
  breakdown: ParameterBreakdown
  strategies: StrategyName[]
  maxAdd: number
  candidates?: CandidateSpec
  blockSizes?: number[]
  beamWidth?: number
  objective?: Objective
  /** Layer labels the original DLEC rule flags (needed by `dlec-original`; from a profile run). */
  dlecFlagged?: number[]
  /** Block Influence per layer for `curve` (from a profile run; default: measured on the curve's own data). */
  blockInfluence?: number[]
  /** Also measure every block [i, j) of the band for the heat-map, not only the search's sizes. */
  heatmapAllBlocks?: boolean
}

export async function* expansionCurveIter(params: ExpansionCurveParams): AsyncGenerator<CurveEvent, CurveReport> {
  const {evaluator, breakdown, strategies, maxAdd} = params
  const numLayers = evaluator.numLayers
  const spec = params.candidates ?? 'middle'
  const blockSizes = params.blockSizes ?? [1]
  if (!Number.isInteger(maxAdd) || maxAdd < 1) {
    throw new UsageError(`--max-add must be a positive whole number (got ${maxAdd})`)
  }
  const memo = new Map<string, EvaluatedCandidate>()
  const evaluations: EvaluatedCandidate[] = []
  const pending: CurveEvent[] = []
  const measure = async (strategy: StrategyName | 'sweep', duplications: Duplication[]): Promise<Measurement> => {
    const layers = expandLayers(numLayers, duplications)
    const key = layers.join(',')
    const known = memo.get(key)
    if (known) {
      return known.measurement
    }
    const measurement = await evaluator.measure(layers)
    const entry = {strategy, duplications, layers, added: addedLayers(duplications), params: sequenceParameterCount(breakdown, layers), measurement}
    memo.set(key, entry)
    evaluations.push(entry)
    pending.push({type: 'evaluated', strategy, label: formatDuplications(duplications), evaluations: evaluations.length, measurement})
    return measurement
  }
  const point = (strategy: StrategyName, duplications: Duplication[], m: Measurement, measured = true): CurvePoint => {
    const layers = expandLayers(numLayers, duplications)
    return {strategy, added: addedLayers(duplications), duplications, layers, params: sequenceParameterCount(breakdown, layers), measured, ...m}
  }
  const points: CurvePoint[] = []
  const emit = function* (p: CurvePoint): Generator<CurveEvent> {
    yield* pending.splice(0)
    points.push(p)
    yield {type: 'point', point: p}
  }
  const band = candidateBand(spec, numLayers)
  if (strategies.includes('dlec-original') && (params.dlecFlagged ?? []).length === 0) {
    throw new UsageError(
      'dlec-original needs the layers the original DLEC rule flags: profile first with raw first-token activations (`dlec profile MODEL --data FILE --raw first-token`) into the --db store',
    )
  }
  for (const strategy of strategies) {
    if (strategy === 'greedy' || strategy === 'beam') {
      const width = strategy === 'greedy' ? 1 : (params.beamWidth ?? 4)
      const search = searchExpansions({
        numLayers,
        candidates: candidateBlocks({numLayers, spec, blockSizes}),
        maxAdd,
        beamWidth: width,
        objective: params.objective,
        measure: (d) => measure(strategy, d),
      })
      for (;;) {
        const r = await search.next()
        if (r.done === true) {
          break
        }
        if (r.value.type === 'level') {
          yield* emit(point(strategy, r.value.best.duplications, r.value.best.measurement))
          await evaluator.remember(r.value.best.layers)
        } else {
          yield* pending.splice(0)
        }
      }
      continue
    }
    for (let k = 1; k <= maxAdd; k++) {
      if (strategy === 'identity') {
        yield* emit(point(strategy, identityPlacement({numLayers, k}), {kl: 0, loss: evaluator.baseLoss, lossDelta: 0, top1: 1}, false))
        continue
      }
      const duplications =
        strategy === 'curve'
          ? scoreCurvePlacement({weights: weightsFromBlockInfluence(params.blockInfluence ?? evaluator.blockInfluence), k, band})
          : dlecOriginalPlacement({flaggedLabels: params.dlecFlagged ?? [], numLayers, k})
      yield* emit(point(strategy, duplications, await measure(strategy, duplications)))
    }
  }
  if (params.heatmapAllBlocks === true) {
    for (let start = band.start; start < band.end; start++) {
      for (let end = start + 1; end <= band.end; end++) {
        await measure('sweep', [{start, end}])
        yield* pending.splice(0)
      }
    }
  }
  const blocks = evaluations
    .filter((e) => e.duplications.length === 1)
    .map((e) => {
      const d = e.duplications[0] as Duplication
      return {start: d.start, end: d.end, kl: e.measurement.kl, lossDelta: e.measurement.lossDelta, top1: e.measurement.top1}
    })
  return {
    numLayers,
    tokens: evaluator.tokens,
    baseLoss: evaluator.baseLoss,
    baseParams: sequenceParameterCount(
      breakdown,
      breakdown.perLayer.map((_, i) => i),
    ),
    blockInfluence: evaluator.blockInfluence,
    points,
    evaluations,
    blocks,
    layersRun: evaluator.layersRun,
  }
}
