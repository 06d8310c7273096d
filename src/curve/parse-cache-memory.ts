import {UsageError} from '../errors.js'

/**
 * `--cache-memory`: bytes, optionally with a binary K / M / G / T suffix (2G = 2 GiB; `KB`, `KiB`
 * read the same), fractions allowed (1.5G). 0 keeps no cached hidden state but h_0. Pure.
 */
export function parseCacheMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim())
  if (!match) {
    throw new UsageError(`--cache-memory ${text}: expected bytes with an optional K, M, G or T suffix (e.g. 2G, 512M)`)
  }
  const power = ['', 'k', 'm', 'g', 't'].indexOf((match[2] ?? '').toLowerCase())
  return Math.floor(Number(match[1]) * 1024 ** power)
}
