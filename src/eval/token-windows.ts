import {DataError} from '../errors.js'
import {encodePrefix} from '../tokenizer/encode-prefix.js'
import type {TextTokenizer} from '../tokenizer/load-tokenizer.js'

export interface TokenWindows {
  /** Token id rows, each at most `windowSize` long (BOS first when the tokenizer adds one). */
  rows: number[][]
  /** Texts longer than one window, split into several rows. */
  chunkedTexts: number
  /** True when `maxTokens` cut the data short. */
  truncated: boolean
  windowSize: number
}

/**
 * Tokenizes texts into rows for evaluation. A text longer than `windowSize` tokens is split into
 * consecutive windows; each window after the first starts again with BOS (when the tokenizer adds
 * one), so every row looks like a document start to the model. `maxTokens` caps the total.
 */
export function tokenWindows(params: {tokenizer: TextTokenizer; texts: string[]; windowSize: number; maxTokens?: number}): TokenWindows {
  const {tokenizer, texts, windowSize} = params
  if (windowSize < 2) {
    throw new DataError(`window size ${windowSize} is too small to predict any token`)
  }
  const rows: number[][] = []
  let chunkedTexts = 0
  let total = 0
  let truncated = false
  const budget = params.maxTokens ?? Number.POSITIVE_INFINITY
  for (const text of texts) {
    // Only what the budget can still use is tokenized (a huge single-line text costs no more); one
    // token more tells whether the budget cut the text.
    const ids = encodePrefix(tokenizer, text, budget - total + 1)
    if (ids.length < 2) {
      continue
    }
    const bos = tokenizer.addsBos && tokenizer.bosId !== undefined ? [tokenizer.bosId] : []
    const body = bos.length > 0 ? ids.slice(1) : ids
    const step = windowSize - bos.length
    if (body.length + bos.length > windowSize) {
      chunkedTexts++
    }
    for (let at = 0; at < body.length; at += step) {
      let row = [...bos, ...body.slice(at, at + step)]
      if (total + row.length > budget) {
        row = row.slice(0, budget - total)
        truncated = true
      }
      if (row.length >= 2) {
        rows.push(row)
        total += row.length
      }
      if (truncated) {
        return {rows, chunkedTexts, truncated, windowSize}
      }
    }
  }
  return {rows, chunkedTexts, truncated, windowSize}
}
