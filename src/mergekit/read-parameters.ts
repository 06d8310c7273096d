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

/**
 * Parameters mergekit multiplies tensors by (passthrough's `scale`): a string that is not a number
 * would fail inside mergekit, and a NaN or infinite factor fills the model with NaN, so both are
 * refused here, naming the place.
 */
export const NUMERIC_PARAMETERS: ReadonlySet<string> = new Set(['scale'])

function checkNumeric(reader: ConfigReader, value: ScalarParameter, place: string): void {
  if (parameterNumber(value) === undefined) {
    reader.fail(place, `must be a finite number (got ${describe(value)})`)
  }
}

/** A scalar parameter as a number the way Python's float() reads it, or undefined when it is not a finite number. */
export function parameterNumber(value: ScalarParameter): number | undefined {
  if (typeof value === 'boolean') {
    return value ? 1 : 0
  }
  if (typeof value === 'string' && !/^\s*[-+]?(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][-+]?\d+)?\s*$/.test(value)) {
    return undefined
  }
  const n = typeof value === 'number' ? value : Number(value.trim().replace(/_/g, ''))
  return Number.isFinite(n) ? n : undefined
}

function readSetting(reader: ConfigReader, value: unknown, place: string, numeric = NUMERIC_PARAMETERS.has(place.slice(place.lastIndexOf('.') + 1))): ParameterSetting {
  if (isScalar(value)) {
    if (numeric) {
      checkNumeric(reader, value, place)
    }
    return value
  }
  if (Array.isArray(value)) {
    if (value.every(isScalar)) {
      if (numeric) {
        value.forEach((v, i) => checkNumeric(reader, v as ScalarParameter, join(place, i)))
      }
      return value as ScalarParameter[]
    }
    if (value.every((v) => typeof v === 'object' && v !== null && !Array.isArray(v))) {
      return value.map((v, i) => readConditional(reader, v, join(place, i), numeric))
    }
    return reader.fail(place, 'must be a list of numbers (a gradient) or a list of {filter, value} entries, not a mix')
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    return readConditional(reader, value, place, numeric)
  }
  return reader.fail(place, `must be a number, a gradient list or {filter, value} (got ${describe(value)})`)
}

function readConditional(reader: ConfigReader, value: unknown, place: string, numeric: boolean): ConditionalParameter {
  const map = reader.mapping(value, place, ['value', 'filter'])
  if (!('value' in map)) {
    return reader.fail(join(place, 'value'), 'is required')
  }
  const v = map.value
  let parsed: ScalarOrGradient
  if (isScalar(v)) {
    if (numeric) {
      checkNumeric(reader, v, join(place, 'value'))
    }
    parsed = v
  } else if (Array.isArray(v) && v.every(isScalar)) {
    if (numeric) {
      v.forEach((x, i) => checkNumeric(reader, x as ScalarParameter, join(join(place, 'value'), i)))
    }
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
