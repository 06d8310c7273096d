import type {ArchitectureDefinition} from '../architectures/schema.js'
import {UsageError} from '../errors.js'
import {isMergekitDtype, MERGEKIT_DTYPES, type MergeConfig, type OutputSlice} from './merge-config.js'

/**
 * The canonical passthrough config for an output layer sequence (source layer per output layer):
 * half-open `layer_range`s, the fewest slices (maximal runs of consecutive source layers), and a
 * one-layer `[n, n+1]` slice wherever a run has length one. With `identityCopies`, every repeated
 * occurrence of a source layer (second copy and later, in sequence order) gets `scale: 0` on the
 * family's identityFilters (its output projections), so the copy starts as an identity block;
 * copies and originals never share a slice. `copyScale` α does the same with `scale: α` (soft
 * copies: 0 is the identity copy, 1 a plain copy that still states its scale).
 */
export function layerSequenceToConfig(params: {
  model: string
  layers: number[]
  dtype?: string
  identityCopies?: boolean
  /** Scale of every copy's output projections (soft copies); identityCopies is copyScale 0. */
  copyScale?: number
  arch?: ArchitectureDefinition
}): MergeConfig {
  const {model, layers} = params
  if (layers.length === 0) {
    throw new UsageError('layer sequence is empty: a merge needs at least one layer')
  }
  for (const [i, l] of layers.entries()) {
    if (!Number.isInteger(l) || l < 0) {
      throw new UsageError(`layer sequence position ${i}: ${l} is not a layer index (non-negative integer)`)
    }
  }
  if (params.dtype !== undefined && !isMergekitDtype(params.dtype)) {
    throw new UsageError(`unknown dtype "${params.dtype}" (mergekit accepts ${MERGEKIT_DTYPES.join(', ')})`)
  }
  const copyScale = params.identityCopies === true ? 0 : params.copyScale
  if (copyScale !== undefined && !Number.isFinite(copyScale)) {
    throw new UsageError(`copy scale ${copyScale} is not a finite number`)
  }
  let filters: string[] = []
  if (copyScale !== undefined) {
    if (!params.arch) {
      throw new UsageError(`${params.identityCopies === true ? 'identity' : 'soft'} copies need the architecture (its identityFilters name the output projections)`)
    }
    filters = params.arch.identityFilters
  }
  const seen = new Set<number>()
  const isCopy = layers.map((l) => {
    const copy = seen.has(l)
    seen.add(l)
    return copyScale !== undefined && copy
  })
  const slices: OutputSlice[] = []
  let start = 0
  for (let i = 1; i <= layers.length; i++) {
    const prev = layers[i - 1] as number
    const continues = i < layers.length && layers[i] === prev + 1 && isCopy[i] === isCopy[start]
    if (continues) {
      continue
    }
    const first = layers[start] as number
    const slice: OutputSlice = {sources: [{model, layer_range: [first, prev + 1]}]}
    if (isCopy[start]) {
      const source = slice.sources[0]
      if (source) {
        source.parameters = {scale: filters.map((filter) => ({filter, value: copyScale ?? 0}))}
      }
    }
    slices.push(slice)
    start = i
  }
  const config: MergeConfig = {merge_method: 'passthrough', slices}
  if (params.dtype !== undefined) {
    config.dtype = params.dtype
  }
  return config
}
