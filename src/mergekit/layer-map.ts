import type {MergeConfig, OutputSlice} from './merge-config.js'

/** Output layer `output` is source layer `source` of `model`, planned by slice `slice`. */
export interface LayerMapEntry {
  output: number
  slice: number
  model: string
  source: number
  /** mergekit's gradient position: idx/(n-1) within the slice, 1 for a one-layer slice. */
  t: number
  /** Every source of the slice at this position (more than one only for non-passthrough methods). */
  inputs: {model: string; source: number}[]
}

/**
 * The output layers a slices config produces, in order (mergekit `plan.py`: slices walked in
 * order, each `range(start, end)`, output indices counted from 0). For a `modules` config, the
 * module that has slices (the text decoder); a `models` config has no layer map (returns []).
 */
export function layerMap(config: MergeConfig): LayerMapEntry[] {
  const slices = slicesOf(config)
  const out: LayerMapEntry[] = []
  for (const [sliceIndex, slice] of slices.entries()) {
    const first = slice.sources[0]
    if (first === undefined) {
      continue
    }
    const n = first.layer_range[1] - first.layer_range[0]
    for (let idx = 0; idx < n; idx++) {
      out.push({
        output: out.length,
        slice: sliceIndex,
        model: first.model,
        source: first.layer_range[0] + idx,
        t: n > 1 ? idx / (n - 1) : 1,
        inputs: slice.sources.map((s) => ({model: s.model, source: s.layer_range[0] + idx})),
      })
    }
  }
  return out
}

/** The slices that define the output layers: top-level, or those of the one module that has them. */
export function slicesOf(config: MergeConfig): OutputSlice[] {
  if (config.slices) {
    return config.slices
  }
  const withSlices = Object.values(config.modules ?? {}).filter((m) => m.slices !== undefined)
  return withSlices.length === 1 ? (withSlices[0]?.slices ?? []) : []
}
