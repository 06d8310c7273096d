import {UsageError} from '../errors.js'

/**
 * The one size syntax of every dlec size flag (`--out-shard-size`, `--cache-memory`): a number of
 * bytes, optionally fractional, with an optional suffix, case-insensitive:
 * - `K`, `M`, `G`, `T` (or `KB`, `MB`, `GB`, `TB`): decimal, 1e3, 1e6, 1e9, 1e12 bytes, as
 *   mergekit's `--out-shard-size` reads `K` and `M`;
 * - `B` alone: 1e9 bytes, mergekit's spelling of a billion (its default shard size is `5B`);
 * - `Ki`, `Mi`, `Gi`, `Ti` (or `KiB`, ...): binary, 1024, 1024^2, 1024^3, 1024^4 bytes.
 * Whole bytes (rounded down). `flag` names the flag in the error message. Pure.
 */
export function parseByteSize(text: string, flag: string, options: {allowZero?: boolean} = {}): number {
  const match = /^(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(i)?b?|(b))?$/i.exec(text.trim())
  if (!match) {
    throw new UsageError(`${flag} ${text}: expected bytes with an optional suffix K, M, G, T (decimal; B alone = G, as mergekit's 5B) or Ki, Mi, Gi, Ti (binary), e.g. 5B, 2G, 500M, 512Mi`)
  }
  const [, number, prefix, binary, billion] = match
  const power = billion === undefined ? ['', 'k', 'm', 'g', 't'].indexOf((prefix ?? '').toLowerCase()) : 3
  const bytes = Math.floor(Number(number) * (binary === undefined ? 1000 : 1024) ** power)
  if (!Number.isSafeInteger(bytes) || (bytes === 0 && options.allowZero !== true)) {
    throw new UsageError(`${flag} ${text}: must be ${options.allowZero === true ? 'a' : 'a positive'} size of at most 2^53 bytes`)
  }
  return bytes
}
