import {UsageError} from '../errors.js'

/** Which raw activations a profile keeps: none, position 0 of each sample (what the original DLEC stored), or K positions. */
export type RawMode = {kind: 'none'} | {kind: 'first-token'} | {kind: 'sample'; k: number}

/** Parses --raw none|first-token|sample:K. */
export function parseRawMode(text: string): RawMode {
  if (text === 'none' || text === 'first-token') {
    return {kind: text}
  }
  const m = /^sample:(\d+)$/.exec(text)
  if (m !== null && Number(m[1]) >= 1) {
    return {kind: 'sample', k: Number(m[1])}
  }
  throw new UsageError(`--raw ${text}: expected none, first-token or sample:K (K >= 1)`)
}

/**
 * The positions whose raw activations are kept for a row of `length` tokens: [0] for first-token;
 * for sample:K, K positions evenly spread over 1..length-1 (deterministic, so a resumed run stores
 * the same ones), fewer when the row is shorter.
 */
export function rawPositions(mode: RawMode, length: number): number[] {
  if (mode.kind === 'none' || length < 1) {
    return []
  }
  if (mode.kind === 'first-token') {
    return [0]
  }
  const available = length - 1
  if (available <= mode.k) {
    return Array.from({length: available}, (_, i) => i + 1)
  }
  const out: number[] = []
  for (let i = 0; i < mode.k; i++) {
    out.push(1 + Math.floor(((i + 0.5) * available) / mode.k))
  }
  return out
}
