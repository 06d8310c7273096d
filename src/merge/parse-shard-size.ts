import {UsageError} from '../errors.js'

/**
 * mergekit's `--out-shard-size` syntax (`parse_kmb`): an integer number of bytes, optionally with
 * a decimal K / M / B suffix (5B = 5,000,000,000). Pure.
 */
export function parseShardSize(text: string): number {
  const match = /^(\d+)([kKmMbB]?)$/.exec(text.trim())
  if (!match) {
    throw new UsageError(`--out-shard-size ${text}: expected bytes with an optional K, M or B suffix (e.g. 5B, 500M)`)
  }
  const factor = {'': 1, k: 1e3, m: 1e6, b: 1e9}[(match[2] ?? '').toLowerCase()] ?? 1
  const value = Number(match[1]) * factor
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new UsageError(`--out-shard-size ${text}: must be a positive size`)
  }
  return value
}
