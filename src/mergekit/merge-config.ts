/**
 * The mergekit YAML schema (mergekit `config.py` `MergeConfiguration`), field names exactly as in
 * the YAML so a config round-trips without renaming. Parsed and validated by parseMergeConfig.
 */

import {MAX_MODEL_LAYERS} from '../architectures/registry.js'

/** The merge methods mergekit 0.1.5 registers (`mergekit/merge_methods/registry.py`); others fail in mergekit. */
export const MERGE_METHODS = [
  'arcee_fusion', 'breadcrumbs', 'breadcrumbs_ties', 'dare_linear', 'dare_ties', 'della', 'della_linear', 'karcher', 'linear',
  'model_stock', 'multislerp', 'nearswap', 'nuslerp', 'passthrough', 'ram', 'ramplus_tl', 'sce', 'slerp', 'task_arithmetic', 'ties',
] as const

/**
 * Limits on what a YAML file may ask for. No released checkpoint has more than a few hundred decoder
 * layers, and the layer map is built entry by entry: an end of 2^53 would otherwise exhaust memory
 * before any depth check could run. Both are far above any real config.
 */
export const MAX_LAYER_INDEX = MAX_MODEL_LAYERS
/** The most output layers (and slices) one config may produce. */
export const MAX_OUTPUT_LAYERS = 10_000

/** A parameter's scalar: mergekit accepts bool, int, float and str. */
export type ScalarParameter = number | boolean | string
/** A scalar, or a list of them: a gradient interpolated over a slice's layers. */
export type ScalarOrGradient = ScalarParameter | ScalarParameter[]

/** `{filter, value}`: applies when `filter` is absent, `*`, or a substring of the source tensor name. */
export interface ConditionalParameter {
  value: ScalarOrGradient
  filter?: string
}

export type ParameterSetting = ScalarOrGradient | ConditionalParameter | ConditionalParameter[]
export type ParameterMap = Record<string, ParameterSetting>

/**
 * A model reference, kept as mergekit's string form: `path`, `path@revision`, `path+lora`,
 * `path@rev+lora@rev`. The dict form `{model: {path, revision}, lora, override_architecture}` is
 * normalised to this string; `override_architecture` is kept separately where given.
 */
export type ModelRef = string

export interface InputSlice {
  model: ModelRef
  /** Half-open `[start, end)` source layer range. */
  layer_range: [number, number]
  parameters?: ParameterMap
}

export interface OutputSlice {
  sources: InputSlice[]
  base_model?: ModelRef
  residual_weight?: number
  parameters?: ParameterMap
}

export interface InputModel {
  model: ModelRef
  parameters?: ParameterMap
}

export interface OutputModule {
  slices?: OutputSlice[]
  models?: InputModel[]
  parameters?: ParameterMap
}

export interface TokenizerConfig {
  source?: ModelRef | 'union' | 'base'
  tokens?: Record<string, unknown>
  pad_to_multiple_of?: number
}

export interface MergeConfig {
  modules?: Record<string, OutputModule>
  slices?: OutputSlice[]
  models?: InputModel[]
  merge_method: string
  base_model?: ModelRef
  dtype?: string
  tokenizer_source?: ModelRef | 'union' | 'base'
  tokenizer?: TokenizerConfig
  chat_template?: string
  out_dtype?: string
  parameters?: ParameterMap
}

/** The dtype names mergekit's `dtype_from_name` accepts (each also with a `torch.` prefix). */
export const MERGEKIT_DTYPES = ['bfloat16', 'float16', 'float32', 'float64', 'int64'] as const

/** True when mergekit would accept `name` as a `dtype`/`out_dtype`. */
export function isMergekitDtype(name: string): boolean {
  const bare = name.startsWith('torch.') ? name.slice('torch.'.length) : name
  return (MERGEKIT_DTYPES as readonly string[]).includes(bare)
}

/** The top-level keys of MergeConfiguration, in mergekit's declaration order. */
export const MERGE_CONFIG_KEYS = [
  'modules',
  'slices',
  'models',
  'merge_method',
  'base_model',
  'dtype',
  'tokenizer_source',
  'tokenizer',
  'chat_template',
  'out_dtype',
  'parameters',
] as const
