import {UsageError} from '../errors.js'
import type {Interval, RowSums} from '../eval/bootstrap.js'
import {addedLayers, expandLayers, sortDuplications, type Duplication} from './layer-plan.js'
import type {ProbeScore} from '../eval/probe.js'

/**
 * Greedy and beam search over duplications, judged by measurement (RYS-style, SLEB-style).
 *
 * The search works level by level in added layers: every kept state at level a is extended by every
 * candidate block [i, j) that fits (a + (j-i) <= maxAdd), each new layer sequence is measured once,
 * and level a+1 keeps the `beamWidth` best of all states that reached it. Greedy is width 1. Lower
 * objective is better (`probe` is the negated probe accuracy: higher accuracy is better, ties go to
 * the lower KL); ties go to fewer seams, then to the shallower blocks. With `maxKl`, a candidate
 * whose KL exceeds it is measured but never kept nor chosen (the guard-rail). The measurement is a
 * callback, so the search itself is pure and testable with any function.
 */
export interface Measurement {
  /** Mean KL(original || candidate) per predicted token. */
  kl: number
  /** Mean cross-entropy of the candidate. */
  loss: number
  /** Candidate loss minus original loss. */
  lossDelta: number
  /** Fraction of tokens whose argmax equals the original's. */
  top1: number
  /** Multiple-choice probe accuracy with its Wilson interval (when probe items were given). */
  probe?: ProbeScore
  /** Predicted tokens measured (fewer than the evaluator's when racing dropped the candidate early). */
  tokens?: number
  /** 95% paired-bootstrap intervals (rows resampled, the same resamples for every candidate). */
  klCi?: Interval
  lossDeltaCi?: Interval
  top1Ci?: Interval
  /** Per-row sums (the bootstrap's unit), in row order. */
  rows?: RowSums
}

type Intervals = Pick<Measurement, 'klCi' | 'lossDeltaCi' | 'top1Ci'>

/** The intervals a measurement (or a stored row, whose missing ones are null) has, and no others. */
export function intervalsOf(m: {[K in keyof Intervals]?: Intervals[K] | null}): Intervals {
  return {...(m.klCi ? {klCi: m.klCi} : {}), ...(m.lossDeltaCi ? {lossDeltaCi: m.lossDeltaCi} : {}), ...(m.top1Ci ? {top1Ci: m.top1Ci} : {})}
}

export type Objective = 'kl' | 'loss' | 'probe'

export interface SearchState {
  duplications: Duplication[]
  layers: number[]
  added: number
  measurement: Measurement
}

export type SearchEvent =
  | {type: 'evaluated'; state: SearchState; evaluations: number}
  /** A level done: its best state, and the runner-up when it was measured on all rows. */
  | {type: 'level'; added: number; best: SearchState; kept: number; runnerUp?: SearchState}

export function objectiveOf(m: Measurement, objective: Objective): number {
  return objective === 'kl' ? m.kl : objective === 'loss' ? m.lossDelta : -(m.probe?.accuracy ?? Number.NaN)
}

export function compareStates(a: SearchState, b: SearchState, objective: Objective): number {
  const d = objectiveOf(a.measurement, objective) - objectiveOf(b.measurement, objective)
  if (d !== 0 && !Number.isNaN(d)) {
    return d
  }
  if (objective === 'probe' && a.measurement.kl !== b.measurement.kl) {
    return a.measurement.kl - b.measurement.kl
  }
  if (a.duplications.length !== b.duplications.length) {
    return a.duplications.length - b.duplications.length
  }
  return a.layers.join(',') < b.layers.join(',') ? -1 : a.layers.join(',') > b.layers.join(',') ? 1 : 0
}

/** A layer sequence a search asks to measure. */
export interface SearchCandidate {
  duplications: Duplication[]
  layers: number[]
}

/**
 * Measures all candidates of one level together (racing): `complete` false for those dropped on
 * part of the rows, which then rank after every complete one. Yields between measurements.
 */
export type PoolMeasure = (candidates: SearchCandidate[], keep: number) => AsyncGenerator<undefined, {measurement: Measurement; complete: boolean}[]>

export async function* searchExpansions(params: {
  numLayers: number
  candidates: readonly Duplication[]
  maxAdd: number
  beamWidth: number
  objective?: Objective
  /** Candidates whose mean KL exceeds this are measured but never kept (the --max-kl guard-rail). */
  maxKl?: number
  measure: (duplications: Duplication[], layers: number[]) => Promise<Measurement>
  /** When given, each level's candidates are measured together through it (racing) instead of one by one. */
  measurePool?: PoolMeasure
}): AsyncGenerator<SearchEvent, SearchState[]> {
  const {numLayers, candidates, maxAdd, beamWidth, measure} = params
  const objective = params.objective ?? 'kl'
  if (!Number.isInteger(maxAdd) || maxAdd < 1) {
    throw new UsageError(`--max-add must be a positive whole number (got ${maxAdd})`)
  }
  if (!Number.isInteger(beamWidth) || beamWidth < 1) {
    throw new UsageError(`--beam must be a positive whole number (got ${beamWidth})`)
  }
  // a level's candidates are measured once all of them are known (every state that can reach
  // level a+1 extends a kept state of level a or below), so racing sees the whole level
  const withinGuard = (state: SearchState): boolean => params.maxKl === undefined || !(state.measurement.kl > params.maxKl)
  const waiting: SearchCandidate[][] = Array.from({length: maxAdd + 1}, () => [])
  const seen = new Set<string>()
  let kept: SearchState[] = [{duplications: [], layers: expandLayers(numLayers, []), added: 0, measurement: {kl: 0, loss: 0, lossDelta: 0, top1: 1}}]
  const best: SearchState[] = []
  const partial = new Set<SearchState>()
  let evaluations = 0
  for (let level = 0; level < maxAdd; level++) {
    for (const state of kept) {
      for (const c of candidates) {
        const size = c.end - c.start
        if (level + size > maxAdd) {
          continue
        }
        const duplications = sortDuplications([...state.duplications, c])
        const layers = expandLayers(numLayers, duplications)
        const key = layers.join(',')
        if (seen.has(key)) {
          continue
        }
        seen.add(key)
        waiting[addedLayers(duplications)]?.push({duplications, layers})
      }
    }
    const pool: SearchState[] = []
    const due = waiting[level + 1] ?? []
    if (params.measurePool !== undefined && due.length > 0) {
      const race = params.measurePool(due, beamWidth)
      let r = await race.next()
      while (r.done !== true) {
        r = await race.next()
      }
      for (const [i, c] of due.entries()) {
        const result = r.value[i] as {measurement: Measurement; complete: boolean}
        const next: SearchState = {...c, added: level + 1, measurement: result.measurement}
        if (!result.complete) {
          partial.add(next)
        }
        if (withinGuard(next)) {
          pool.push(next)
        }
        yield {type: 'evaluated', state: next, evaluations: ++evaluations}
      }
    } else {
      for (const c of due) {
        const next: SearchState = {...c, added: level + 1, measurement: await measure(c.duplications, c.layers)}
        if (withinGuard(next)) {
          pool.push(next)
        }
        yield {type: 'evaluated', state: next, evaluations: ++evaluations}
      }
    }
    pool.sort((a, b) => Number(partial.has(a)) - Number(partial.has(b)) || compareStates(a, b, objective))
    kept = pool.slice(0, beamWidth).filter((s) => !partial.has(s))
    const top = kept[0]
    if (top) {
      best.push(top)
      yield {type: 'level', added: level + 1, best: top, kept: kept.length, ...(pool[1] !== undefined && !partial.has(pool[1]) ? {runnerUp: pool[1]} : {})}
    }
  }
  return best
}
