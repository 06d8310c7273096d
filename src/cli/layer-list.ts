import {UsageError} from '../errors.js'

/** `--layers 0,1,2,2,3` -> [0, 1, 2, 2, 3] (eval, generate). */
export function parseLayerList(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim())
  if (parts.some((p) => !/^\d+$/.test(p))) {
    throw new UsageError(`--layers ${text}: expected comma-separated layer indices such as 0,1,2,2,3`)
  }
  return parts.map(Number)
}
