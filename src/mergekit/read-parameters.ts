import type {ConfigReader} from './config-reader.js'
import {describe, join} from './config-reader.js'
import type {ConditionalParameter, ParameterMap, ParameterSetting, ScalarOrGradient, ScalarParameter} from './merge-config.js'

/** Validates a `parameters:` mapping against mergekit's ParameterSetting union. */
export function readParameters(reader: ConfigReader, value: unknown, place: string): ParameterMap | undefined {
  if (value === undefined || value === null) {
    return undefined
  }
  const map = reader.mapping(value, place, 'any')
  const out: ParameterMap = {}
  for (const [name, setting] of Object.entries(map)) {
    out[name] = readSetting(reader, setting, join(place, name))
  }
  return out
}

function readSetting(reader: ConfigReader, value: unknown, place: string): ParameterSetting {
  if (isScalar(value)) {
    return value
  }
  if (Array.isArray(value)) {
    if (value.every(isScalar)) {
      return value as ScalarParameter[]
    }
    if (value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
      return value.map((v, i) => readConditional(reader, v, join(place, i)))
    }
    return reader.fail(place, 'must be a list of numbers (a gradient) or a list of {filter, value} entries, not a mix')
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return readConditional(reader, value, place)
  }
  return reader.fail(place, `must be a number, a gradient list or {filter, value} (got ${describe(value)})`)
}

function readConditional(reader: ConfigReader, value: unknown, place: string): ConditionalParameter {
  const map = reader.mapping(value, place, ['value', 'filter'])
  if (!('value' in map)) {
    return reader.fail(join(place, 'value'), 'is required')
  }
  const v = map.value
  let parsed: ScalarOrGradient
  if (isScalar(v)) {
    parsed = v
  } else if (Array.isArray(v) && v.every(isScalar)) {
    parsed = v as ScalarParameter[]
  } else {
    return reader.fail(join(place, 'value'), `must be a number or a gradient list (got ${describe(v)})`)
  }
  if (map.filter === undefined || map.filter === null) {
    return {value: parsed}
  }
  return {filter: reader.string(map.filter, join(place, 'filter')), value: parsed}
}

function isScalar(v: unknown): v is ScalarParameter {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string'
}
