import {UsageError} from '../errors.js'
import {seededRandom} from '../util/seeded-random.js'

/**
 * A seeded split of evaluation texts, by text, into a selection part and a held-out part. The
 * texts are shuffled with `seededRandom(seed)` (Fisher-Yates); the first round(fraction · n) go to
 * the held-out part and the rest, in their file order, to the selection part (the held-out part
 * keeps file order too). The same texts, fraction and seed give the same split everywhere. Pure.
 */
export interface TextSplit {
  selection: string[]
  holdout: string[]
}

export function splitTexts(texts: readonly string[], fraction: number, seed: number): TextSplit {
  if (!Number.isFinite(fraction) || fraction <= 0 || fraction >= 1) {
    throw new UsageError(`--holdout-split must be a fraction strictly between 0 and 1 (got ${fraction})`)
  }
  const order = texts.map((_, i) => i)
  const random = seededRandom(seed)
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[order[i], order[j]] = [order[j] as number, order[i] as number]
  }
  const held = Math.round(fraction * texts.length)
  const heldSet = new Set(order.slice(0, held))
  if (held === 0 || held === texts.length) {
    throw new UsageError(`--holdout-split ${fraction} of ${texts.length} text(s) leaves ${held === 0 ? 'the held-out' : 'the selection'} part empty: give more texts or another fraction`)
  }
  return {selection: texts.filter((_, i) => !heldSet.has(i)), holdout: texts.filter((_, i) => heldSet.has(i))}
}
