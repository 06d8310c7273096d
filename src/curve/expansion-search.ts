import {UsageError} from '../errors.js'
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
  | {type: 'level'; added: number; best: SearchState; kept: number}

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

export async function* searchExpansions(params: {
  numLayers: number
  candidates: readonly Duplication[]
  maxAdd: number
  beamWidth: number
  objective?: Objective
  /** Candidates whose mean KL exceeds this are measured but never kept (the --max-kl guard-rail). */
  maxKl?: number
  measure: (duplications: Duplication[], layers: number[]) => Promise<Measurement>
}): AsyncGenerator<SearchEvent, SearchState[]> {
  const {numLayers, candidates, maxAdd, beamWidth, measure} = params
  const objective = params.objective ?? 'kl'
  if (!Number.isInteger(maxAdd) || maxAdd < 1) {
    throw new UsageError(`--max-add must be a positive whole number (got ${maxAdd})`)
  }
  if (!Number.isInteger(beamWidth) || beamWidth < 1) {
    throw new UsageError(`--beam must be a positive whole number (got ${beamWidth})`)
  }
  const pools: SearchState[][] = Array.from({length: maxAdd + 1}, () => [])
  const seen = new Set<string>()
  let kept: SearchState[] = [{duplications: [], layers: expandLayers(numLayers, []), added: 0, measurement: {kl: 0, loss: 0, lossDelta: 0, top1: 1}}]
  const best: SearchState[] = []
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
        const measurement = await measure(duplications, layers)
        evaluations++
        const next: SearchState = {duplications, layers, added: addedLayers(duplications), measurement}
        if (params.maxKl === undefined || !(measurement.kl > params.maxKl)) {
          pools[next.added]?.push(next)
        }
        yield {type: 'evaluated', state: next, evaluations}
      }
    }
    const pool = pools[level + 1] ?? []
    pool.sort((a, b) => compareStates(a, b, objective))
    kept = pool.slice(0, beamWidth)
    const top = kept[0]
    if (top) {
      best.push(top)
      yield {type: 'level', added: level + 1, best: top, kept: kept.length}
    }
  }
  return best
}
