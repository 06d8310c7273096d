import {ConfigError} from '../errors.js'

/**
 * A cursor over untrusted parsed YAML: every failure names the file and the place
 * (`plan.yaml: slices[2].sources[0].layer_range: ...`), and unknown keys become warnings.
 */
export class ConfigReader {
  constructor(
    readonly source: string,
    readonly warnings: string[],
  ) {}

  fail(place: string, why: string): never {
    throw new ConfigError(`${this.source}: ${place === '' ? '' : `${place}: `}${why}`)
  }

  warn(place: string, why: string): void {
    this.warnings.push(`${this.source}: ${place}: ${why}`)
  }

  /** A mapping; keys outside `known` are reported as ignored (mergekit drops them silently). */
  mapping(value: unknown, place: string, known: readonly string[] | 'any'): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) {
      return this.fail(place === '' ? '(document)' : place, `must be a mapping (got ${describe(value)})`)
    }
    const record = value as Record<string, unknown>
    for (const key of Object.keys(record)) {
      if (known !== 'any' && !known.includes(key)) {
        this.warn(join(place, key), 'unknown key, ignored (as mergekit does)')
      }
    }
    return record
  }

  list(value: unknown, place: string): unknown[] {
    return Array.isArray(value) ? value : this.fail(place, `must be a list (got ${describe(value)})`)
  }

  string(value: unknown, place: string): string {
    return typeof value === 'string' ? value : this.fail(place, `must be a string (got ${describe(value)})`)
  }

  /** pydantic lax int: ints, integral floats, and strings holding an integer. */
  int(value: unknown, place: string): number {
    const n = typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : value
    if (typeof n === 'number' && Number.isInteger(n)) {
      return n
    }
    return this.fail(place, `must be an integer (got ${describe(value)})`)
  }

  /** pydantic lax float: numbers and numeric strings. */
  float(value: unknown, place: string): number {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
    if (typeof n === 'number' && !Number.isNaN(n)) {
      return n
    }
    return this.fail(place, `must be a number (got ${describe(value)})`)
  }
}

export function join(place: string, key: string | number): string {
  if (typeof key === 'number') {
    return `${place}[${key}]`
  }
  return place === '' ? key : `${place}.${key}`
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) {
    return 'nothing'
  }
  if (Array.isArray(value)) {
    return `a list of ${value.length}`
  }
  if (value instanceof Date) {
    return 'a date'
  }
  if (typeof value === 'object') {
    return 'a mapping'
  }
  const text = JSON.stringify(value)
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`
}
