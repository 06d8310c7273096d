import type {MergeConfig, ParameterMap, ParameterSetting, ScalarParameter} from './merge-config.js'
import {ConfigError} from '../errors.js'
import {slicesOf} from './layer-map.js'
import {NUMERIC_PARAMETERS, parameterNumber} from './read-parameters.js'

export interface ParameterSite {
  /** Index into the slices (slicesOf(config)). Pre weights: 0; post weights: the last slice. */
  slice: number
  /** The source's model reference (canonical string). */
  model: string
  /** The SOURCE tensor name (filters are substring matches on it). */
  tensorName: string
  /** Gradient position; 0 for pre/post weights. */
  t: number
  /** For a `modules` config: the module name. */
  module?: string
}

/**
 * Resolves a numeric parameter (e.g. passthrough's `scale`) for one tensor as mergekit does:
 * source parameters (every source of the slice whose model matches), then the slice's, the
 * module's, the top level's; the first that yields a value wins. Filters are plain substring
 * matches (`*` or no filter matches all); gradients interpolate linearly at `t`. Undefined when no
 * level sets it (passthrough then leaves the tensor untouched).
 */
export function resolveParameter(config: MergeConfig, name: string, at: ParameterSite): number | undefined {
  const module = at.module === undefined ? undefined : config.modules?.[at.module]
  const slices = module?.slices ?? slicesOf(config)
  const slice = slices[at.slice]
  const scopes: (ParameterMap | undefined)[] = []
  if (slice) {
    for (const source of slice.sources) {
      if (source.model === at.model) {
        scopes.push(source.parameters)
      }
    }
    scopes.push(slice.parameters)
  } else {
    for (const m of module?.models ?? config.models ?? []) {
      if (m.model === at.model) {
        scopes.push(m.parameters)
      }
    }
  }
  scopes.push(module?.parameters, config.parameters)
  for (const scope of scopes) {
    const setting = scope?.[name]
    if (setting !== undefined) {
      const value = evaluateSetting(at.tensorName, setting, at.t)
      if (value !== undefined && !Number.isFinite(value) && NUMERIC_PARAMETERS.has(name)) {
        // parseMergeConfig refuses these; a config built in code gets the same answer here.
        throw new ConfigError(`parameter ${name} for ${at.tensorName} is not a finite number`, 'DLEC_CONFIG_PARAMETER')
      }
      if (value !== undefined) {
        return value
      }
    }
  }
  return undefined
}

/** mergekit `evaluate_setting` for a numeric parameter (pydantic float: bools 1/0, numeric strings). */
export function evaluateSetting(tensorName: string, setting: ParameterSetting, t: number): number | undefined {
  if (!Array.isArray(setting)) {
    if (typeof setting === 'object') {
      return evaluateSetting(tensorName, [setting], t)
    }
    return toNumber(setting)
  }
  if (setting.length === 0) {
    return undefined
  }
  if (setting.every((e) => typeof e !== 'object')) {
    const values = (setting as ScalarParameter[]).map(toNumber)
    const scaled = t * (values.length - 1)
    const i0 = Math.trunc(scaled)
    const i1 = Math.min(values.length - 1, i0 + 1)
    const frac = scaled - i0
    return (1 - frac) * (values[i0] ?? Number.NaN) + frac * (values[i1] ?? Number.NaN)
  }
  for (const cond of setting) {
    if (typeof cond !== 'object') {
      continue
    }
    if (cond.filter === undefined || cond.filter === '*' || (tensorName !== '' && tensorName.includes(cond.filter))) {
      return evaluateSetting(tensorName, cond.value, t)
    }
  }
  return undefined
}

function toNumber(v: ScalarParameter): number {
  return parameterNumber(v) ?? Number.NaN
}
