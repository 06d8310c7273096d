import {ConfigError} from '../errors.js'
import type {MergeConfig} from './merge-config.js'

/**
 * Checks every slice source against its model's depth (mergekit only notices mid-merge, when a
 * missing tensor is loaded). `depthOf` returns the layer count of a model reference, or undefined
 * when it is not known (then that source is not checked). Throws a ConfigError naming the place.
 */
export function checkLayerRanges(params: {
  config: MergeConfig
  source: string
  depthOf: (model: string) => number | undefined
}): void {
  const {config, source, depthOf} = params
  const groups: [string, MergeConfig['slices']][] = [['slices', config.slices]]
  for (const [name, module] of Object.entries(config.modules ?? {})) {
    groups.push([`modules.${name}.slices`, module.slices])
  }
  for (const [prefix, slices] of groups) {
    for (const [i, slice] of (slices ?? []).entries()) {
      for (const [j, src] of slice.sources.entries()) {
        const depth = depthOf(src.model)
        const [start, end] = src.layer_range
        if (depth !== undefined && end > depth) {
          throw new ConfigError(
            `${source}: ${prefix}[${i}].sources[${j}].layer_range: [${start}, ${end}] goes past the model's ${depth} layers (${src.model} has layers 0..${depth - 1}; end is exclusive)`,
            'DLEC_CONFIG_RANGE',
          )
        }
      }
    }
  }
}
