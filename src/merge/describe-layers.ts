import {substituteTemplate} from '../architectures/template.js'
import {checkLayerRanges} from '../mergekit/check-layer-ranges.js'
import {inspectModel, type ModelInspection} from '../model/inspect-model.js'
import {baseParameterCount, parameterBreakdown, sequenceParameterCount} from '../model/parameter-count.js'
import {layerMap, slicesOf, type LayerMapEntry} from '../mergekit/layer-map.js'
import type {MergeConfig, ParameterMap, ParameterSetting} from '../mergekit/merge-config.js'
import {readMergeConfig} from '../mergekit/read-merge-config.js'
import {evaluateSetting, resolveParameter} from '../mergekit/resolve-parameter.js'

export interface LayerRow extends Omit<LayerMapEntry, 'inputs'> {
  /** Parameter name -> what applies to this layer (resolved per tensor when the model is known). */
  parameters: Record<string, string>
}

export interface ModelSummary {
  dir: string
  architecture: string
  numLayersKey: string
  depthBefore: number
  depthAfter: number
  paramsBefore: number
  paramsAfter: number
}

export interface ConfigReport {
  file: string
  mergeMethod: string
  slices: number
  outputLayers: number
  models: string[]
  warnings: string[]
  model?: ModelSummary
}

export interface LayersReport extends ConfigReport {
  layers: LayerRow[]
}

/**
 * Reads and validates a mergekit YAML file; with `modelDir`, also checks every layer_range
 * against that model's depth and counts depth and parameters before and after the merge
 * (the model's sizes are assumed for every model the config names).
 */
export async function describeLayers(params: {file: string; modelDir?: string}): Promise<LayersReport> {
  const {config, warnings} = await readMergeConfig(params.file)
  const map = layerMap(config)
  const listed = [...(config.models ?? []), ...Object.values(config.modules ?? {}).flatMap((m) => m.models ?? [])].map((m) => m.model)
  const models = [...new Set([...slicesOf(config).flatMap((s) => s.sources.map((x) => x.model)), ...listed])]
  let model: ModelInspection | undefined
  let summary: ModelSummary | undefined
  if (params.modelDir !== undefined) {
    model = await inspectModel({dir: params.modelDir})
    const depth = model.numLayers
    checkLayerRanges({config, source: params.file, depthOf: () => depth})
    if (models.length > 1) {
      warnings.push(`${params.file}: names ${models.length} models; --model ${params.modelDir} stands for all of them`)
    }
    const dropped = model.match.unclaimed
    if (dropped.length > 0) {
      warnings.push(`${params.modelDir}: ${dropped.length} tensor${dropped.length === 1 ? '' : 's'} outside the ${model.arch.name} template would not be copied by a merge (as mergekit drops them): ${dropped.slice(0, 3).join(', ')}${dropped.length > 3 ? ', ...' : ''}`)
    }
    summary = summarize(model, map, slicesOf(config).length === 0)
  }
  const names = parameterNames(config)
  const layers = map.map(({inputs: _inputs, ...entry}) => ({...entry, parameters: describeParameters(config, names, entry, model)}))
  return {
    file: params.file,
    mergeMethod: config.merge_method,
    slices: slicesOf(config).length,
    outputLayers: summary?.depthAfter ?? map.length,
    models,
    warnings,
    model: summary,
    layers,
  }
}

/**
 * `keepsDepth`: a `models` merge (no slices) merges layer k of every model into output layer k.
 * Parameters are counted as transformers' `num_parameters()` does (a tied LM head once), the same
 * count `dlec plan` and `dlec curve` report.
 */
function summarize(model: ModelInspection, map: LayerMapEntry[], keepsDepth: boolean): ModelSummary {
  const breakdown = parameterBreakdown({arch: model.arch, config: model.config, shapes: model.shapes, source: model.dir})
  const sources = keepsDepth ? Array.from({length: model.numLayers}, (_, k) => k) : map.map((e) => e.source)
  return {
    dir: model.dir,
    architecture: model.arch.name,
    numLayersKey: model.arch.numLayersKey,
    depthBefore: model.numLayers,
    depthAfter: sources.length,
    paramsBefore: baseParameterCount(breakdown),
    paramsAfter: sequenceParameterCount(breakdown, sources),
  }
}

/** The parameter names any scope of the config sets. */
function parameterNames(config: MergeConfig): string[] {
  const maps: (ParameterMap | undefined)[] = [config.parameters]
  for (const s of slicesOf(config)) {
    maps.push(s.parameters, ...s.sources.map((x) => x.parameters))
  }
  return [...new Set(maps.flatMap((m) => Object.keys(m ?? {})))].sort()
}

function describeParameters(config: MergeConfig, names: string[], e: Omit<LayerMapEntry, 'inputs'>, model: ModelInspection | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const text = model ? perTensor(config, name, e, model) : perScope(config, name, e)
    if (text !== undefined) {
      out[name] = text
    }
  }
  return out
}

/** With the architecture known: the value each layer tensor gets, grouped (`o_proj.weight=0 down_proj.weight=0`). */
function perTensor(config: MergeConfig, name: string, e: Omit<LayerMapEntry, 'inputs'>, model: ModelInspection): string | undefined {
  const values = model.arch.layerWeights.map((w) => {
    const tensorName = substituteTemplate(w.name, {layerIndex: e.source})
    const short = w.name.slice(w.name.indexOf('${layer_index}.') + '${layer_index}.'.length)
    return {short, value: resolveParameter(config, name, {slice: e.slice, model: e.model, tensorName, t: e.t})}
  })
  const set = values.filter((v) => v.value !== undefined)
  if (set.length === 0) {
    return undefined
  }
  const first = set[0]?.value
  if (set.length === values.length && set.every((v) => v.value === first)) {
    return fmt(first)
  }
  return set.map((v) => `${v.short}=${fmt(v.value)}`).join(' ')
}

/** Without the architecture: each scope's setting at this layer's t, highest precedence first. */
function perScope(config: MergeConfig, name: string, e: Omit<LayerMapEntry, 'inputs'>): string | undefined {
  const slice = slicesOf(config)[e.slice]
  const scopes = [...(slice?.sources.filter((s) => s.model === e.model).map((s) => s.parameters) ?? []), slice?.parameters, config.parameters]
  const parts = scopes.flatMap((m) => (m?.[name] === undefined ? [] : [settingText(m[name] as ParameterSetting, e.t)]))
  return parts.length === 0 ? undefined : parts.join(' | ')
}

function settingText(setting: ParameterSetting, t: number): string {
  const list = Array.isArray(setting) ? setting : [setting]
  if (list.every((c) => typeof c !== 'object')) {
    return fmt(evaluateSetting('', setting, t))
  }
  return list
    .map((c) => (typeof c === 'object' ? `${c.filter === undefined || c.filter === '*' ? 'else' : c.filter}=${fmt(evaluateSetting('', c.value, t))}` : ''))
    .join(' ')
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : String(Number(v.toPrecision(6)))
}
