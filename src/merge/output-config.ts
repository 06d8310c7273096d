import {getConfigValue, setConfigValue, type ModelConfigJson} from '../architectures/registry.js'
import type {ArchitectureDefinition} from '../architectures/schema.js'
import type {LayerMapEntry} from '../mergekit/layer-map.js'

/**
 * The merged model's config.json: the donor's JSON with the layer-count key set (as mergekit
 * does), `torch_dtype` / `dtype` set to `out_dtype` else `dtype` where the YAML gives one, and, a
 * deliberate deviation from mergekit (which leaves them stale and then fails to save under
 * transformers 5), every per-layer list (`layer_types`, ...) remapped so output layer k gets the
 * entry of the source layer it was copied from. Pure.
 */
export function outputConfig(params: {
  donor: ModelConfigJson
  arch: ArchitectureDefinition
  layers: LayerMapEntry[]
  /** config.json of every source model, by model reference (for per-layer lists). */
  sources: Map<string, ModelConfigJson>
  dtype?: string
}): ModelConfigJson {
  let config = setConfigValue(params.donor, params.arch.numLayersKey, params.layers.length)
  if (params.dtype !== undefined) {
    const name = params.dtype.startsWith('torch.') ? params.dtype.slice('torch.'.length) : params.dtype
    const keys = ['torch_dtype', 'dtype'].filter((k) => k in config)
    for (const key of keys.length > 0 ? keys : ['torch_dtype']) {
      config = {...config, [key]: name}
    }
  }
  for (const key of params.arch.perLayerConfigKeys) {
    const list = getConfigValue(params.donor, key)
    if (!Array.isArray(list)) {
      continue
    }
    const remapped = params.layers.map((entry) => {
      const source = getConfigValue(params.sources.get(entry.model) ?? params.donor, key)
      return Array.isArray(source) ? source[entry.source] : undefined
    })
    if (remapped.every((v) => v !== undefined)) {
      config = setConfigValue(config, key, remapped)
    }
  }
  return config
}
