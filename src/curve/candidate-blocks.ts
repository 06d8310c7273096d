import {UsageError} from '../errors.js'
import type {Duplication} from './layer-plan.js'

/**
 * Which blocks [i, j) a search may duplicate. `middle` keeps clear of the fragile first ~15% and
 * last ~20% of layers (literature: Painters, Stages of Inference, RYS heat-maps); `all` allows every
 * layer; `i-j` allows layers i through j (inclusive, as people write depth ranges). Pure.
 */
export type CandidateSpec = 'middle' | 'all' | {first: number; last: number}

/** Fraction of layers kept out of `middle` at the bottom and at the top. */
export const MIDDLE_SKIP_FIRST = 0.15
export const MIDDLE_SKIP_LAST = 0.2

export function parseCandidateSpec(text: string): CandidateSpec {
  if (text === 'middle' || text === 'all') {
    return text
  }
  const m = /^(\d+)-(\d+)$/.exec(text.trim())
  if (!m) {
    throw new UsageError(`--candidates "${text}" must be middle, all, or a layer range i-j (e.g. 4-20)`)
  }
  const first = Number(m[1])
  const last = Number(m[2])
  if (first > last) {
    throw new UsageError(`--candidates ${text}: first layer ${first} is after last layer ${last}`)
  }
  return {first, last}
}

/** The half-open range of layers the spec allows on an N-layer model. */
export function candidateBand(spec: CandidateSpec, numLayers: number): Duplication {
  if (spec === 'all') {
    return {start: 0, end: numLayers}
  }
  if (spec === 'middle') {
    const start = Math.ceil(MIDDLE_SKIP_FIRST * numLayers - 1e-9)
    const end = numLayers - Math.floor(MIDDLE_SKIP_LAST * numLayers + 1e-9)
    return start < end ? {start, end} : {start: 0, end: numLayers}
  }
  if (spec.last >= numLayers) {
    throw new UsageError(`--candidates ${spec.first}-${spec.last}: the model has layers 0..${numLayers - 1}`)
  }
  return {start: spec.first, end: spec.last + 1}
}

/** `1,2,4` -> [1, 2, 4]. */
export function parseBlockSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => s.trim())
  const out = sizes.map((s) => {
    const n = Number(s)
    if (!/^\d+$/.test(s) || n < 1) {
      throw new UsageError(`--block-sizes "${text}": "${s}" is not a positive whole number`)
    }
    return n
  })
  return [...new Set(out)].sort((a, b) => a - b)
}

/** Every block [i, i+b) inside the band, for each size b, in depth order. */
export function candidateBlocks(params: {numLayers: number; spec: CandidateSpec; blockSizes: readonly number[]}): Duplication[] {
  const band = candidateBand(params.spec, params.numLayers)
  const out: Duplication[] = []
  for (const size of params.blockSizes) {
    for (let start = band.start; start + size <= band.end; start++) {
      out.push({start, end: start + size})
    }
  }
  if (out.length === 0) {
    throw new UsageError(`no block of size ${params.blockSizes.join('/')} fits in layers ${band.start}..${band.end - 1}`)
  }
  return out
}
