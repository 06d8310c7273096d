import {InterruptedError, UsageError} from '../errors.js'
import {candidateBand, candidateBlocks, type CandidateSpec} from './candidate-blocks.js'
import {measurementOf, type CurveEvaluator} from './curve-evaluator.js'
import {concatRows, pairedDifferenceInterval, resamplePlan, sliceRows, type BootstrapOptions, type Interval, type RowSums} from '../eval/bootstrap.js'
import {intervalsOf, objectiveOf, searchExpansions, type Measurement, type Objective, type PoolMeasure, type SearchState} from './expansion-search.js'
import {raceCandidates} from './racing.js'
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
  /** 95% paired-bootstrap intervals of the measured point (absent for identity points). */
  klCi?: Interval
  lossDeltaCi?: Interval
  top1Ci?: Interval
}

/** A level whose best and runner-up a search cannot tell apart: their paired difference interval contains 0. */
export interface NoiseTie {
  strategy: StrategyName
  added: number
  best: {duplications: Duplication[]; value: number}
  runnerUp: {duplications: Duplication[]; value: number}
  objective: Objective
  /** 95% paired interval of runner-up minus best. */
  difference: Interval
}

/** What racing did over the whole curve. */
export interface RacingSummary {
  enabled: boolean
  /** Candidates left measured on part of the rows (clearly worse there). */
  dropped: number
  /** Layer runs the full sweep would have spent on them besides (estimated from their own cost per batch). */
  layerRunsSaved: number
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
  /** Taken from the store (an earlier run with the same model, data and options), not measured now. */
  reused?: boolean
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
  /** Rows (windows of texts) measured: the bootstrap's unit. */
  rowCount: number
  /** How the intervals were resampled. */
  bootstrap: {resamples: number; seed: number; level: number}
  /** Levels chosen within noise (best and runner-up not told apart). */
  ties: NoiseTie[]
  racing: RacingSummary
  /** Candidates taken from the store instead of measured. */
  reused: number
}

export type CurveEvent =
  /** A candidate measured: `evaluations` so far, of at most `planned` (fewer when strategies share candidates). */
  | {type: 'evaluated'; strategy: StrategyName | 'sweep'; label: string; evaluations: number; planned: number; measurement: Measurement; candidate: EvaluatedCandidate}
  | {type: 'point'; point: CurvePoint}
  /** Racing over one level: `candidates` measured on a first slice, `survivors` on all rows. */
  | {type: 'raced'; strategy: StrategyName; added: number; candidates: number; survivors: number; dropped: number}

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
  /** Race each search level's candidates (successive halving; default true); false measures every candidate on all rows. */
  racing?: boolean
  /** Resampling of the intervals (default 1000 resamples, seed 0, 95%). */
  bootstrap?: BootstrapOptions
  /** Measurements stored by an earlier run with the same model, data and options, by layer sequence (`layers.join(',')`). */
  reuse?: ReadonlyMap<string, Measurement>
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
  const allRows = evaluator.rows
  const bootstrap = {resamples: params.bootstrap?.resamples ?? 1000, seed: params.bootstrap?.seed ?? 0, level: params.bootstrap?.level ?? 0.95}
  const rowsOf = (e: EvaluatedCandidate): number => e.measurement.rows?.tokens.length ?? allRows
  /** Layer runs per batch each candidate cost (for the racing savings estimate). */
  const costPerBatch = new Map<EvaluatedCandidate, number>()
  const batchesOf = (rows: number): number => (rows === 0 ? 0 : evaluator.rowBoundaries.indexOf(rows) + 1)
  let reused = 0
  /** The candidate measured on at least rows [0, to), extending what it has (all rows by default). */
  const ensure = async (strategy: StrategyName | 'sweep', duplications: Duplication[], to = allRows, alpha?: number): Promise<EvaluatedCandidate> => {
    const layers = expandLayers(numLayers, duplications)
    // soft copies are keyed by their α too, and never taken from the store (it keys sequences only)
    const key = alpha === undefined ? layers.join(',') : `${layers.join(',')}@${alpha}`
    let entry = memo.get(key)
    const stored = entry === undefined && alpha === undefined ? params.reuse?.get(key) : undefined
    const storedRows = stored?.rows?.tokens.length
    if (stored !== undefined && storedRows !== undefined && evaluator.rowBoundaries.includes(storedRows)) {
      entry = {strategy, duplications, layers, added: addedLayers(duplications), params: sequenceParameterCount(breakdown, layers), measurement: stored, reused: true}
      memo.set(key, entry)
      evaluations.push(entry)
      reused++
      pending.push({type: 'evaluated', strategy, label: formatDuplications(duplications), evaluations: evaluations.length, planned, measurement: stored, candidate: entry})
    }
    const have = entry === undefined ? 0 : rowsOf(entry)
    if (entry !== undefined && have >= to) {
      return entry
    }
    if (params.signal?.aborted === true) {
      throw new InterruptedError(`the curve stopped after ${evaluations.length} measured candidate(s)`)
    }
    const before = evaluator.layersRun
    const part = await evaluator.measure(layers, {from: have, to, ...(alpha === undefined ? {} : {scales: copyScales(layers, alpha)})})
    const rows = entry?.measurement.rows !== undefined && part.rows !== undefined ? concatRows(entry.measurement.rows, part.rows) : part.rows
    const measurement = have === 0 || rows === undefined ? part : measurementOf(rows, to >= allRows ? bootstrap : undefined)
    if (entry === undefined) {
      entry = {strategy, duplications, layers, added: addedLayers(duplications), params: sequenceParameterCount(breakdown, layers), measurement, ...(alpha === undefined ? {} : {alpha})}
      memo.set(key, entry)
      evaluations.push(entry)
      pending.push({type: 'evaluated', strategy, label: formatDuplications(duplications), evaluations: evaluations.length, planned, measurement, candidate: entry})
    } else {
      entry.measurement = measurement
    }
    costPerBatch.set(entry, (evaluator.layersRun - before) / Math.max(1, batchesOf(to) - batchesOf(have)))
    return entry
  }
  const measure = async (strategy: StrategyName | 'sweep', duplications: Duplication[], alpha?: number): Promise<Measurement> => (await ensure(strategy, duplications, allRows, alpha)).measurement
  const metric = params.objective === 'loss' ? 'dLoss' : 'kl'
  const racePool =
    (strategy: StrategyName): PoolMeasure =>
      async function* (candidates, keep) {
        const race = raceCandidates({
          count: candidates.length,
          keep: Math.max(2, keep),
          boundaries: evaluator.rowBoundaries,
          metric,
          seed: bootstrap.seed,
          resamples: bootstrap.resamples,
          extend: async (i, to) => {
            const e = await ensure(strategy, (candidates[i] as {duplications: Duplication[]}).duplications, to)
            return sliceRows(e.measurement.rows as RowSums, 0, to)
          },
        })
        let r = await race.next()
        while (r.done !== true) {
          yield undefined
          r = await race.next()
        }
        const entries = candidates.map((c) => memo.get(c.layers.join(',')) as EvaluatedCandidate)
        pending.push({type: 'raced', strategy, added: entries[0]?.added ?? 0, candidates: candidates.length, survivors: r.value.survivors.length, dropped: r.value.dropped.length})
        return entries.map((e) => ({measurement: e.measurement, complete: rowsOf(e) >= allRows}))
      }
  const ties: NoiseTie[] = []
  const checkTie = (strategy: StrategyName, added: number, best: SearchState, runnerUp: SearchState | undefined): void => {
    const a = best.measurement.rows
    const b = runnerUp?.measurement.rows
    if (runnerUp === undefined || a === undefined || b === undefined || a.tokens.length !== allRows || b.tokens.length !== allRows || allRows < 2) {
      return
    }
    const difference = pairedDifferenceInterval(b, a, metric, resamplePlan(allRows, bootstrap))
    if (difference[0] <= 0 && difference[1] >= 0) {
      const objective = params.objective ?? 'kl'
      ties.push({strategy, added, objective, difference, best: {duplications: best.duplications, value: objectiveOf(best.measurement, objective)}, runnerUp: {duplications: runnerUp.duplications, value: objectiveOf(runnerUp.measurement, objective)}})
    }
  }
  const point = (strategy: StrategyName, duplications: Duplication[], m: Measurement, measured = true): CurvePoint => {
    const layers = expandLayers(numLayers, duplications)
    const ci = intervalsOf(m)
    return {strategy, added: addedLayers(duplications), duplications, layers, params: sequenceParameterCount(breakdown, layers), measured, kl: m.kl, loss: m.loss, lossDelta: m.lossDelta, top1: m.top1, ...ci, ...(m.probe === undefined ? {} : {probe: m.probe})}
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
        // racing drops by paired KL / loss intervals on rows: not a probe objective's measure
        ...(params.racing === false || params.objective === 'probe' ? {} : {measurePool: racePool(name)}),
      })
      for (;;) {
        const r = await search.next()
        if (r.done === true) {
          break
        }
        if (r.value.type === 'level') {
          checkTie(name, r.value.added, r.value.best, r.value.runnerUp)
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
    rowCount: allRows,
    bootstrap,
    ties,
    racing: {
      enabled: params.racing !== false,
      dropped: evaluations.filter((e) => rowsOf(e) < allRows).length,
      layerRunsSaved: Math.round(evaluations.reduce((n, e) => n + (rowsOf(e) < allRows ? (costPerBatch.get(e) ?? 0) * (evaluator.rowBoundaries.length - batchesOf(rowsOf(e))) : 0), 0)),
    },
    reused,
  }
}

/** A curve without its per-row sums (what --json prints: the intervals stay, the rows are for the store). */
export function withoutRowSums<T extends {evaluations: EvaluatedCandidate[]}>(report: T): T {
  return {...report, evaluations: report.evaluations.map((e) => ({...e, measurement: {...e.measurement, rows: undefined}}))}
}
