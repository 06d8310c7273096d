import {percentileInterval, resampledMeans, resamplePlan, rowMean, type RowMetric, type RowSums} from '../eval/bootstrap.js'

/**
 * Racing (successive halving) over the candidates of one search level. Pure apart from the
 * `extend` callback that measures.
 *
 * Every candidate is measured on a first slice of the rows (the smallest batch boundary holding at
 * least an eighth of them, and at least `minRows`); then, at each stage, the contenders are ranked
 * by their point estimate on the rows measured so far, and a contender is dropped when the paired
 * bootstrap interval (at `level`, 99% by default) of its mean minus that of the `keep`-th best lies
 * wholly above 0: clearly worse on these rows, with the same resamples for every contender. The
 * `keep` best are never dropped. The rows measured then double for the contenders left, up to all
 * rows; whoever is left at the end is measured on all rows, so the pick and its numbers are those
 * of the full sweep whenever the true best was not dropped early.
 */
export interface RaceParams {
  /** Candidates 0 … count-1. */
  count: number
  /** Never drop below this many contenders (the beam width; at least 2 so the runner-up is measured in full). */
  keep: number
  /** Row counts at the batch ends (a measured range ends on one of these); the last is all rows. */
  boundaries: readonly number[]
  /** Lower is better. */
  metric: RowMetric
  /** Measures candidate i on rows [0, to) (extending what it has) and returns those rows' sums. */
  extend: (i: number, to: number) => Promise<RowSums>
  /** Coverage of the dropping interval (default 0.99). */
  level?: number
  /** Smallest first slice in rows (default 8). */
  minRows?: number
  seed?: number
  resamples?: number
}

export interface RaceResult {
  /** Candidates measured on all rows. */
  survivors: number[]
  /** Candidates dropped, with the rows they were measured on. */
  dropped: {index: number; rows: number}[]
}

export const RACING_LEVEL = 0.99
export const RACING_MIN_ROWS = 8

/** The row counts of the stages: the first slice, then doubling, ending at all rows (batch boundaries). */
export function raceStages(boundaries: readonly number[], minRows = RACING_MIN_ROWS): number[] {
  const all = boundaries.at(-1) ?? 0
  const snap = (rows: number): number => boundaries.find((b) => b >= rows) ?? all
  const stages: number[] = []
  for (let target = Math.max(minRows, Math.ceil(all / 8)); ; target = 2 * (stages.at(-1) as number)) {
    const at = snap(target)
    if (stages.at(-1) !== at) {
      stages.push(at)
    }
    if (at >= all) {
      return stages
    }
  }
}

export async function* raceCandidates(params: RaceParams): AsyncGenerator<undefined, RaceResult> {
  const {count, boundaries, metric, extend} = params
  const keep = Math.max(1, params.keep)
  const level = params.level ?? RACING_LEVEL
  let contenders = Array.from({length: count}, (_, i) => i)
  const dropped: RaceResult['dropped'] = []
  for (const to of raceStages(boundaries, params.minRows)) {
    const sums = new Map<number, RowSums>()
    for (const i of contenders) {
      sums.set(i, await extend(i, to))
      yield undefined
    }
    if (to >= (boundaries.at(-1) ?? 0) || contenders.length <= keep || to < 2) {
      continue
    }
    const plan = resamplePlan(to, {seed: params.seed, resamples: params.resamples, level})
    const ranked = [...contenders].sort((a, b) => rowMean(sums.get(a) as RowSums, metric) - rowMean(sums.get(b) as RowSums, metric) || a - b)
    const ref = ranked[keep - 1] as number
    const refMeans = resampledMeans(sums.get(ref) as RowSums, metric, plan)
    const out = new Set<number>()
    for (const i of ranked.slice(keep)) {
      const means = resampledMeans(sums.get(i) as RowSums, metric, plan)
      const [lo] = percentileInterval(
        means.map((m, b) => m - (refMeans[b] as number)),
        level,
      )
      if (lo > 0) {
        out.add(i)
        dropped.push({index: i, rows: to})
      }
    }
    contenders = contenders.filter((i) => !out.has(i))
  }
  return {survivors: contenders, dropped}
}
