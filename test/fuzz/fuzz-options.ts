import type fc from 'fast-check'
import {DlecError} from '../../src/errors.js'

/**
 * Fuzzing budget: bounded and seeded in CI (`npm test`), longer on demand:
 *   DLEC_FUZZ_RUNS=20000 DLEC_FUZZ_SEED=$RANDOM bash scripts/test.sh test/fuzz/*.test.ts
 * A failure prints the seed and the shrunk counterexample, so it replays exactly.
 */
export function fuzzOptions(defaultRuns: number): fc.Parameters<unknown> {
  const runs = Number(process.env.DLEC_FUZZ_RUNS ?? defaultRuns)
  const seed = Number(process.env.DLEC_FUZZ_SEED ?? 20251202)
  return {numRuns: runs, seed, endOnFailure: true}
}

/** True when `error` is one of dlec's own typed errors (the only thing a hostile input may produce). */
export function isTyped(error: unknown, kinds: string[]): boolean {
  return error instanceof DlecError && kinds.includes(error.kind) && !error.message.includes('\n')
}
