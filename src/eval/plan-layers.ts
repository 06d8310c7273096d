import {ConfigError} from '../errors.js'
import {layerMap} from '../mergekit/layer-map.js'
import {readMergeConfig} from '../mergekit/read-merge-config.js'
import {slicesOf} from '../mergekit/layer-map.js'

/**
 * The layer sequence a mergekit passthrough YAML builds from one model, for zero-copy evaluation.
 * Refuses what the shared-weights graph cannot express: other merge methods, several source models,
 * per-copy parameters such as `scale` (merge those first, then evaluate the merged folder).
 */
export async function planLayers(file: string): Promise<{layers: number[]; model: string; warnings: string[]}> {
  const {config, warnings} = await readMergeConfig(file)
  if (config.merge_method !== 'passthrough') {
    throw new ConfigError(`${file}: merge_method ${config.merge_method} mixes weights; dlec eval --plan runs passthrough plans only (merge first, then eval the folder)`, 'DLEC_PLAN_UNSUPPORTED')
  }
  const map = layerMap(config)
  const models = new Set(map.map((e) => e.model))
  if (models.size !== 1) {
    throw new ConfigError(`${file}: the plan takes layers from ${models.size} models (${[...models].join(', ')}); --plan evaluates one model's layer sequence`, 'DLEC_PLAN_UNSUPPORTED')
  }
  const scoped = [config.parameters, ...slicesOf(config).flatMap((s) => [s.parameters, ...s.sources.map((x) => x.parameters)])]
  if (scoped.some((p) => p !== undefined && Object.keys(p).length > 0)) {
    throw new ConfigError(`${file}: per-copy parameters (e.g. scale) are not supported by zero-copy evaluation yet; merge the plan and evaluate the merged folder`, 'DLEC_PLAN_UNSUPPORTED')
  }
  return {layers: map.map((e) => e.source), model: [...models][0] ?? '', warnings}
}
