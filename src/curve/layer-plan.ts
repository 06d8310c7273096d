import {UsageError} from '../errors.js'

/**
 * An expansion as data: which blocks of the ORIGINAL model run a second time, and where.
 *
 * A duplication is a half-open block [start, end) of original layer ids. Its copy runs right after
 * the original occurrence of layer end-1, so duplicating [i, j) on an N-layer model gives the
 * sequence 0 … j-1, i … j-1, j … N-1 (RYS's configuration (i, j)). Several duplications compose:
 * the copies of every block ending at the same layer follow one another in the order given. Pure.
 */
export interface Duplication {
  /** First original layer of the block (inclusive). */
  start: number
  /** One past the last original layer of the block (exclusive, like mergekit's layer_range). */
  end: number
}

export interface LayerPlan {
  /** Depth of the original model. */
  numLayers: number
  /** The blocks that run twice, in the order they were chosen. */
  duplications: Duplication[]
  /** Output layer k runs original layer `layers[k]`. */
  layers: number[]
  /** Copies start as identity blocks (LLaMA-Pro: output projections scaled by 0). */
  identityCopies: boolean
}

/** Number of layers a set of duplications adds. */
export function addedLayers(duplications: readonly Duplication[]): number {
  return duplications.reduce((sum, d) => sum + (d.end - d.start), 0)
}

/** Throws a UsageError naming the block that is not a valid half-open range of the model. */
export function validateDuplication(d: Duplication, numLayers: number): void {
  if (!Number.isInteger(d.start) || !Number.isInteger(d.end) || d.start < 0 || d.end > numLayers || d.start >= d.end) {
    throw new UsageError(`block [${d.start}, ${d.end}) is not a non-empty half-open range of layers 0..${numLayers - 1}`)
  }
}

/** The output layer sequence of an expansion. */
export function expandLayers(numLayers: number, duplications: readonly Duplication[]): number[] {
  if (!Number.isInteger(numLayers) || numLayers < 1) {
    throw new UsageError(`a model needs at least one layer (got ${numLayers})`)
  }
  for (const d of duplications) {
    validateDuplication(d, numLayers)
  }
  const out: number[] = []
  for (let layer = 0; layer < numLayers; layer++) {
    out.push(layer)
    for (const d of duplications) {
      if (d.end === layer + 1) {
        for (let l = d.start; l < d.end; l++) {
          out.push(l)
        }
      }
    }
  }
  return out
}

/** A plan from its duplications. */
export function makeLayerPlan(params: {numLayers: number; duplications: Duplication[]; identityCopies?: boolean}): LayerPlan {
  return {
    numLayers: params.numLayers,
    duplications: params.duplications.map((d) => ({start: d.start, end: d.end})),
    layers: expandLayers(params.numLayers, params.duplications),
    identityCopies: params.identityCopies === true,
  }
}

/** Canonical order (by end, then start) so that the same set of blocks is one key. */
export function sortDuplications(duplications: readonly Duplication[]): Duplication[] {
  return [...duplications].sort((a, b) => a.end - b.end || a.start - b.start)
}

/** `[3,4)+[2,5)` style label; `original` for none. */
export function formatDuplications(duplications: readonly Duplication[]): string {
  if (duplications.length === 0) {
    return 'original'
  }
  return duplications.map((d) => (d.end - d.start === 1 ? `${d.start}` : `[${d.start},${d.end})`)).join('+')
}

/** Compact layer sequence: runs of consecutive layers as `a-b`, e.g. `0-3,3-4`. */
export function formatLayerSequence(layers: readonly number[]): string {
  const parts: string[] = []
  let start = 0
  for (let i = 1; i <= layers.length; i++) {
    const prev = layers[i - 1] as number
    if (i < layers.length && layers[i] === prev + 1) {
      continue
    }
    const first = layers[start] as number
    parts.push(first === prev ? `${first}` : `${first}-${prev}`)
    start = i
  }
  return parts.join(',')
}

/** Length of the longest common prefix of two layer sequences. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  let n = 0
  while (n < a.length && n < b.length && a[n] === b[n]) {
    n++
  }
  return n
}
