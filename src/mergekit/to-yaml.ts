import {dump} from 'js-yaml'
import type {
  ConditionalParameter,
  InputModel,
  InputSlice,
  MergeConfig,
  OutputModule,
  OutputSlice,
  ParameterMap,
  ParameterSetting,
  ScalarParameter,
} from './merge-config.js'

/**
 * Renders a MergeConfig as mergekit YAML: fixed key order (method and dtypes first, then the
 * slices), block style, `layer_range: [a, b]` and gradients in flow style, strings quoted wherever
 * PyYAML would read them as something else. The result parses back (here and in mergekit) to the
 * same config.
 */
export function toYaml(config: MergeConfig): string {
  const lines: string[] = []
  const put = (indent: number, text: string): void => {
    lines.push(`${' '.repeat(indent)}${text}`)
  }
  put(0, `merge_method: ${scalar(config.merge_method)}`)
  for (const key of ['base_model', 'dtype', 'out_dtype', 'tokenizer_source', 'chat_template'] as const) {
    const v = config[key]
    if (v !== undefined) {
      put(0, `${key}: ${scalar(v)}`)
    }
  }
  if (config.tokenizer) {
    const yaml = dump(config.tokenizer, {flowLevel: -1}).trimEnd()
    put(0, 'tokenizer:')
    for (const l of yaml.split('\n')) {
      put(2, l)
    }
  }
  writeParameters(put, 0, config.parameters)
  if (config.slices) {
    writeSlices(put, 0, config.slices)
  }
  if (config.models) {
    writeModels(put, 0, config.models)
  }
  if (config.modules) {
    put(0, 'modules:')
    for (const [name, module] of Object.entries(config.modules)) {
      put(2, `${scalar(name)}:`)
      writeModule(put, 4, module)
    }
  }
  return `${lines.join('\n')}\n`
}

type Put = (indent: number, text: string) => void

function writeModule(put: Put, indent: number, module: OutputModule): void {
  if (module.slices) {
    writeSlices(put, indent, module.slices)
  }
  if (module.models) {
    writeModels(put, indent, module.models)
  }
  writeParameters(put, indent, module.parameters)
}

function writeSlices(put: Put, indent: number, slices: OutputSlice[]): void {
  put(indent, 'slices:')
  for (const slice of slices) {
    put(indent, '- sources:')
    for (const source of slice.sources) {
      writeSource(put, indent + 2, source)
    }
    if (slice.base_model !== undefined) {
      put(indent + 2, `base_model: ${scalar(slice.base_model)}`)
    }
    if (slice.residual_weight !== undefined) {
      put(indent + 2, `residual_weight: ${scalar(slice.residual_weight)}`)
    }
    writeParameters(put, indent + 2, slice.parameters)
  }
}

function writeSource(put: Put, indent: number, source: InputSlice): void {
  put(indent, `- model: ${scalar(source.model)}`)
  put(indent + 2, `layer_range: [${source.layer_range[0]}, ${source.layer_range[1]}]`)
  writeParameters(put, indent + 2, source.parameters)
}

function writeModels(put: Put, indent: number, models: InputModel[]): void {
  put(indent, 'models:')
  for (const m of models) {
    put(indent, `- model: ${scalar(m.model)}`)
    writeParameters(put, indent + 2, m.parameters)
  }
}

function writeParameters(put: Put, indent: number, parameters: ParameterMap | undefined): void {
  if (parameters === undefined) {
    return
  }
  put(indent, 'parameters:')
  for (const [name, setting] of Object.entries(parameters)) {
    writeSetting(put, indent + 2, name, setting)
  }
}

function writeSetting(put: Put, indent: number, name: string, setting: ParameterSetting): void {
  const key = scalar(name)
  if (!Array.isArray(setting) && typeof setting !== 'object') {
    put(indent, `${key}: ${scalar(setting)}`)
    return
  }
  const list: (ScalarParameter | ConditionalParameter)[] = Array.isArray(setting) ? setting : [setting]
  if (list.every((e) => typeof e !== 'object')) {
    put(indent, `${key}: ${flow(list as ScalarParameter[])}`)
    return
  }
  put(indent, `${key}:`)
  for (const cond of list) {
    if (typeof cond !== 'object') {
      continue
    }
    const value = Array.isArray(cond.value) ? flow(cond.value) : scalar(cond.value)
    if (cond.filter === undefined) {
      put(indent, `- value: ${value}`)
    } else {
      put(indent, `- filter: ${scalar(cond.filter)}`)
      put(indent + 2, `value: ${value}`)
    }
  }
}

function flow(values: ScalarParameter[]): string {
  return `[${values.map(scalar).join(', ')}]`
}

/** One YAML scalar that PyYAML's safe_load reads back as exactly `v`. */
function scalar(v: ScalarParameter): string {
  if (typeof v === 'string' && /[\n\r]/.test(v)) {
    return JSON.stringify(v)
  }
  return dump(v).trimEnd()
}
