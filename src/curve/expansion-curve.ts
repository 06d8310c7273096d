import {InterruptedError, UsageError} from '../errors.js'
import {candidateBand, candidateBlocks, type CandidateSpec} from './candidate-blocks.js'
import type {CurveEvaluator} from './curve-evaluator.js'
import {searchExpansions, type Measurement, type Objective} from './expansion-search.js'
import {addedLayers, expandLayers, formatDuplications, type Duplication} from './layer-plan.js'
import {sequenceParameterCount, type ParameterBreakdown} from '../model/parameter-count.js'
import {strategyOf, type PlacementContext, type StrategyName} from './strategies.js'
import {bestAlpha, copyScales, DEFAULT_ALPHAS} from './soft-strategy.js'
import type {ProbeScore} from './probe-objective.js'
import type {HoldoutFigure} from './holdout-check.js'

/**
 * The measured expansion curve: for each strategy, the expansion it picks at 1, 2, … K added
 * layers, and its measured quality against the original (mean KL(original || expanded) per token,
 * loss change, top-1 agreement) with its parameter count. Every distinct layer sequence is measured
 * once (strategies share measurements); every measured candidate is returned for the store and the
 * heat-map. `identity` points are KL 0 by construction and marked unmeasured. `soft` points are
 * measured at every α of the grid (copies' output projections scaled by α) and keep the best α.
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
  /** Soft copies: the α the point's copies are scaled by (the best of the grid). */
  alpha?: number
  /** Soft copies: the measurement at every α of the grid, in grid order. */
  alphaGrid?: (Measurement & {alpha: number})[]
  /** Probe accuracy with its Wilson interval (with probe items). */
  probe?: ProbeScore
  /** The point re-measured on the held-out texts (with --holdout / --holdout-split). */
  holdout?: HoldoutFigure
}

export interface EvaluatedCandidate {
  /** The strategy whose choice or search first asked for this sequence (`sweep`: the heat-map). */
  strategy: StrategyName | 'sweep'
  duplications: Duplication[]
  layers: number[]
  added: number
  params: number
  measurement: Measurement
  /** Soft copies: the α its copies' output projections are scaled by. */
  alpha?: number
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
  /** A candidate measured: `evaluations` so far, of at most `planned` (fewer when strategies share candidates). */
  | {type: 'evaluated'; strategy: StrategyName | 'sweep'; label: string; evaluations: number; planned: number; measurement: Measurement; candidate: EvaluatedCandidate}
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
  /** Greedy and beam never keep a candidate whose mean KL exceeds this (the guard-rail of --objective probe). */
  maxKl?: number
  /** Layer labels the original DLEC rule flags (needed by `dlec-original`; from a profile run). */
  dlecFlagged?: number[]
  /** Block Influence per layer for `curve` (from a profile run; default: measured on the curve's own data). */
  blockInfluence?: number[]
  /** Also measure every block [i, j) of the band for the heat-map, not only the search's sizes. */
  heatmapAllBlocks?: boolean
  /** The α grid of soft copies (default DEFAULT_ALPHAS). */
  alphas?: number[]
  /** Stops before the next candidate (an InterruptedError). */
  signal?: AbortSignal
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
  const measure = async (strategy: StrategyName | 'sweep', duplications: Duplication[], alpha?: number): Promise<Measurement> => {
    const layers = expandLayers(numLayers, duplications)
    const key = alpha === undefined ? layers.join(',') : `${layers.join(',')}@${alpha}`
    const known = memo.get(key)
    if (known) {
      return known.measurement
    }
    if (params.signal?.aborted === true) {
      throw new InterruptedError(`the curve stopped after ${evaluations.length} measured candidate(s)`)
    }
    const measurement = alpha === undefined ? await evaluator.measure(layers) : await evaluator.measure(layers, copyScales(layers, alpha))
    const entry: EvaluatedCandidate = {strategy, duplications, layers, added: addedLayers(duplications), params: sequenceParameterCount(breakdown, layers), measurement, ...(alpha === undefined ? {} : {alpha})}
    memo.set(key, entry)
    evaluations.push(entry)
    pending.push({type: 'evaluated', strategy, label: formatDuplications(duplications), evaluations: evaluations.length, planned, measurement, candidate: entry})
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
  const alphas = params.alphas ?? [...DEFAULT_ALPHAS]
  const band = candidateBand(spec, numLayers)
  const searchCandidates = candidateBlocks({numLayers, spec, blockSizes}).length
  const bandSize = band.end - band.start
  const planned =
    strategies.reduce((n, s) => {
      const st = strategyOf(s)
      return n + (st.kind === 'search' ? maxAdd * st.beamWidth(params.beamWidth ?? 4) * searchCandidates : st.measured ? maxAdd * (st.softCopies === true ? alphas.length : 1) : 0)
    }, 0) +
    (params.heatmapAllBlocks === true ? (bandSize * (bandSize + 1)) / 2 : 0)
  const placement: PlacementContext = {numLayers, band, blockInfluence: params.blockInfluence ?? evaluator.blockInfluence, dlecFlagged: params.dlecFlagged ?? []}
  for (const name of strategies) {
    const strategy = strategyOf(name)
    if (strategy.kind === 'placement') {
      const missing = strategy.needs?.(placement)
      if (missing !== undefined) {
        throw new UsageError(missing)
      }
    }
  }
  for (const name of strategies) {
    const strategy = strategyOf(name)
    if (strategy.kind === 'search') {
      const search = searchExpansions({
        numLayers,
        candidates: candidateBlocks({numLayers, spec, blockSizes}),
        maxAdd,
        beamWidth: strategy.beamWidth(params.beamWidth ?? 4),
        objective: params.objective,
        maxKl: params.maxKl,
        measure: (d) => measure(name, d),
      })
      for (;;) {
        const r = await search.next()
        if (r.done === true) {
          break
        }
        if (r.value.type === 'level') {
          yield* emit(point(name, r.value.best.duplications, r.value.best.measurement))
          await evaluator.remember(r.value.best.layers)
        } else {
          yield* pending.splice(0)
        }
      }
      continue
    }
    for (let k = 1; k <= maxAdd; k++) {
      const duplications = strategy.place(placement, k)
      if (strategy.softCopies === true) {
        const tried = []
        for (const alpha of alphas) {
          tried.push({alpha, measurement: await measure(name, duplications, alpha)})
        }
        const best = bestAlpha(tried, params.objective ?? 'kl')
        yield* emit({...point(name, duplications, best.measurement), alpha: best.alpha, alphaGrid: tried.map((t) => ({...t.measurement, alpha: t.alpha}))})
        continue
      }
      const unmeasured = {kl: 0, loss: evaluator.baseLoss, lossDelta: 0, top1: 1}
      yield* emit(point(name, duplications, strategy.measured ? await measure(name, duplications) : unmeasured, strategy.measured))
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
