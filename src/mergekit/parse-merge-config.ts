import {ConfigReader, join} from './config-reader.js'
import {loadYaml} from './load-yaml.js'
import {
  MAX_LAYER_INDEX,
  MAX_OUTPUT_LAYERS,
  MERGE_CONFIG_KEYS,
  MERGE_METHODS,
  MERGEKIT_DTYPES,
  isMergekitDtype,
  type InputModel,
  type InputSlice,
  type MergeConfig,
  type OutputModule,
  type OutputSlice,
  type TokenizerConfig,
} from './merge-config.js'
import {readModelReference} from './model-reference.js'
import {readParameters} from './read-parameters.js'

export interface ParsedMergeConfig {
  config: MergeConfig
  /** Things mergekit accepts silently that are probably mistakes (unknown keys, empty slices). */
  warnings: string[]
}

/**
 * Parses and validates mergekit YAML text (any merge method). Accepts what mergekit's
 * `MergeConfiguration.model_validate(yaml.safe_load(text))` accepts, and also refuses early what
 * mergekit would only fail on mid-merge (unknown dtype, two sources in a passthrough slice,
 * `start > end`). `source` names the file in messages. Throws ConfigError (one line).
 */
export function parseMergeConfig(text: string, source: string): ParsedMergeConfig {
  const reader = new ConfigReader(source, [])
  const doc = loadYaml(text, source)
  if (doc === undefined || doc === null) {
    reader.fail('', 'is empty (expected a mergekit config with merge_method and slices or models)')
  }
  const root = reader.mapping(doc, '', MERGE_CONFIG_KEYS)
  const present = (key: string): boolean => root[key] !== undefined && root[key] !== null
  if (!present('merge_method')) {
    reader.fail('merge_method', 'is required (e.g. merge_method: passthrough)')
  }
  const mergeMethod = reader.string(root.merge_method, 'merge_method')
  if (!(MERGE_METHODS as readonly string[]).includes(mergeMethod)) {
    reader.fail('merge_method', `unknown merge method ${JSON.stringify(mergeMethod.slice(0, 40))} (mergekit has ${MERGE_METHODS.join(', ')})`)
  }
  const config: MergeConfig = {merge_method: mergeMethod}
  checkExactlyOne(reader, root, '')

  const nonEmpty = (key: string): boolean => present(key) && !(Array.isArray(root[key]) && (root[key] as unknown[]).length === 0)
  if (nonEmpty('slices')) {
    config.slices = readSlices(reader, root.slices, 'slices', mergeMethod)
  }
  if (nonEmpty('models')) {
    config.models = readModels(reader, root.models, 'models')
  }
  if (present('modules')) {
    const modules = reader.mapping(root.modules, 'modules', 'any')
    config.modules = {}
    for (const [name, value] of Object.entries(modules)) {
      config.modules[name] = readModule(reader, value, join('modules', name), mergeMethod)
    }
  }
  if (present('base_model')) {
    config.base_model = readModelReference(reader, root.base_model, 'base_model')
  }
  for (const key of ['dtype', 'out_dtype'] as const) {
    if (present(key)) {
      const dtype = reader.string(root[key], key)
      if (!isMergekitDtype(dtype)) {
        reader.fail(key, `unknown dtype "${dtype}" (mergekit accepts ${MERGEKIT_DTYPES.join(', ')})`)
      }
      config[key] = dtype
    }
  }
  if (present('tokenizer_source')) {
    config.tokenizer_source = readTokenizerSource(reader, root.tokenizer_source, 'tokenizer_source')
  }
  if (present('tokenizer')) {
    config.tokenizer = readTokenizer(reader, root.tokenizer, 'tokenizer')
  }
  if (config.tokenizer_source !== undefined && config.tokenizer !== undefined) {
    reader.fail('tokenizer', 'cannot be given together with tokenizer_source')
  }
  if (present('chat_template')) {
    config.chat_template = reader.string(root.chat_template, 'chat_template')
  }
  const parameters = readParameters(reader, root.parameters, 'parameters')
  if (parameters) {
    config.parameters = parameters
  }
  return {config, warnings: reader.warnings}
}

/** mergekit: exactly one of `slices`, `models`, `modules` (an empty list counts as absent). */
function checkExactlyOne(reader: ConfigReader, map: Record<string, unknown>, place: string, keys = ['slices', 'models', 'modules']): void {
  const given = keys.filter((k) => {
    const v = map[k]
    return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)
  })
  if (given.length === 0) {
    reader.fail(place === '' ? keys.join(' / ') : place, `needs exactly one of ${keys.join(', ')} (found none)`)
  }
  if (given.length > 1) {
    reader.fail(place === '' ? given.join(' / ') : place, `give exactly one of ${keys.join(', ')} (found both ${given.join(' and ')})`)
  }
}

function readSlices(reader: ConfigReader, value: unknown, place: string, method: string): OutputSlice[] {
  const list = reader.list(value, place)
  if (list.length > MAX_OUTPUT_LAYERS) {
    reader.fail(place, `${list.length} slices: more than dlec's limit of ${MAX_OUTPUT_LAYERS}`)
  }
  let outputLayers = 0
  return list.map((s, i) => {
    const at = join(place, i)
    const map = reader.mapping(s, at, ['sources', 'base_model', 'residual_weight', 'parameters'])
    const sources = reader.list(map.sources, join(at, 'sources')).map((src, j) => readInputSlice(reader, src, join(join(at, 'sources'), j)))
    if (sources.length === 0) {
      reader.fail(join(at, 'sources'), 'must list at least one source')
    }
    if (method === 'passthrough' && sources.length > 1) {
      reader.fail(join(at, 'sources'), `passthrough takes exactly one source per slice (found ${sources.length}); use one slice per source`)
    }
    const lengths = sources.map((x) => x.layer_range[1] - x.layer_range[0])
    if (lengths.some((n) => n !== lengths[0])) {
      reader.fail(join(at, 'sources'), `all sources of a slice must span the same number of layers (found ${lengths.join(', ')})`)
    }
    outputLayers += lengths[0] ?? 0
    if (outputLayers > MAX_OUTPUT_LAYERS) {
      reader.fail(at, `the slices up to here produce ${outputLayers} output layers: more than dlec's limit of ${MAX_OUTPUT_LAYERS}`)
    }
    const out: OutputSlice = {sources}
    if (map.base_model !== undefined && map.base_model !== null) {
      out.base_model = readModelReference(reader, map.base_model, join(at, 'base_model'))
    }
    if (map.residual_weight !== undefined && map.residual_weight !== null) {
      out.residual_weight = reader.float(map.residual_weight, join(at, 'residual_weight'))
    }
    const parameters = readParameters(reader, map.parameters, join(at, 'parameters'))
    if (parameters) {
      out.parameters = parameters
    }
    if (i === list.length - 1 && outputLayers === 0 && method === 'passthrough') {
      reader.fail(place, 'every slice is empty: the merged model would have 0 layers')
    }
    return out
  })
}

function readInputSlice(reader: ConfigReader, value: unknown, place: string): InputSlice {
  const map = reader.mapping(value, place, ['model', 'layer_range', 'parameters'])
  if (map.model === undefined || map.model === null) {
    reader.fail(join(place, 'model'), 'is required')
  }
  const model = readModelReference(reader, map.model, join(place, 'model'))
  const rangeAt = join(place, 'layer_range')
  if (map.layer_range === undefined || map.layer_range === null) {
    reader.fail(rangeAt, 'is required (a half-open [start, end] pair)')
  }
  const range = reader.list(map.layer_range, rangeAt)
  if (range.length !== 2) {
    reader.fail(rangeAt, `must be a [start, end] pair (got ${range.length} items)`)
  }
  const start = reader.int(range[0], join(rangeAt, 0))
  const end = reader.int(range[1], join(rangeAt, 1))
  if (start < 0) {
    reader.fail(rangeAt, `start ${start} is negative`)
  }
  if (end > MAX_LAYER_INDEX) {
    reader.fail(rangeAt, `end ${end} is beyond dlec's limit of ${MAX_LAYER_INDEX} layers (no model is that deep)`)
  }
  if (start > end) {
    reader.fail(rangeAt, `start ${start} > end ${end} (layer_range is half-open [start, end))`)
  }
  if (start === end) {
    reader.warn(rangeAt, `[${start}, ${end}] is empty: this slice adds zero layers (half-open; [${start}, ${start + 1}] is layer ${start})`)
  }
  const out: InputSlice = {model, layer_range: [start, end]}
  const parameters = readParameters(reader, map.parameters, join(place, 'parameters'))
  if (parameters) {
    out.parameters = parameters
  }
  return out
}

function readModels(reader: ConfigReader, value: unknown, place: string): InputModel[] {
  return reader.list(value, place).map((m, i) => {
    const at = join(place, i)
    const map = reader.mapping(m, at, ['model', 'parameters'])
    if (map.model === undefined || map.model === null) {
      reader.fail(join(at, 'model'), 'is required')
    }
    const out: InputModel = {model: readModelReference(reader, map.model, join(at, 'model'))}
    const parameters = readParameters(reader, map.parameters, join(at, 'parameters'))
    if (parameters) {
      out.parameters = parameters
    }
    return out
  })
}

function readModule(reader: ConfigReader, value: unknown, place: string, method: string): OutputModule {
  const map = reader.mapping(value, place, ['slices', 'models', 'parameters'])
  checkExactlyOne(reader, map, place, ['slices', 'models'])
  const out: OutputModule = {}
  if (Array.isArray(map.slices) && map.slices.length > 0) {
    out.slices = readSlices(reader, map.slices, join(place, 'slices'), method)
  } else {
    out.models = readModels(reader, map.models, join(place, 'models'))
  }
  const parameters = readParameters(reader, map.parameters, join(place, 'parameters'))
  if (parameters) {
    out.parameters = parameters
  }
  return out
}

function readTokenizerSource(reader: ConfigReader, value: unknown, place: string): string {
  if (value === 'union' || value === 'base') {
    return value
  }
  if (typeof value === 'string' && value.startsWith('model:')) {
    reader.warn(place, `"${value}" is the old "model:<path>" syntax: current mergekit reads it as a model path starting with "model:"`)
  }
  return readModelReference(reader, value, place)
}

function readTokenizer(reader: ConfigReader, value: unknown, place: string): TokenizerConfig {
  const map = reader.mapping(value, place, ['source', 'tokens', 'pad_to_multiple_of'])
  const out: TokenizerConfig = {}
  if (map.source !== undefined && map.source !== null) {
    out.source = readTokenizerSource(reader, map.source, join(place, 'source'))
  }
  if (map.tokens !== undefined && map.tokens !== null) {
    out.tokens = reader.mapping(map.tokens, join(place, 'tokens'), 'any')
  }
  if (map.pad_to_multiple_of !== undefined && map.pad_to_multiple_of !== null) {
    out.pad_to_multiple_of = reader.int(map.pad_to_multiple_of, join(place, 'pad_to_multiple_of'))
  }
  return out
}
