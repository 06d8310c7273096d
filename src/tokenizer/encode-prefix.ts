import type {TextTokenizer} from './load-tokenizer.js'

/** Characters tried per wanted token at first (real tokens average 3 to 5 characters). */
const CHARS_PER_TOKEN = 8
/** Tokens beyond `maxTokens` that a prefix must give before it is trusted (the cut only disturbs the last few). */
const MARGIN_TOKENS = 16

/**
 * The first `maxTokens` ids of `text`, without tokenizing all of it: a 5 MB single-line sample with
 * `--max-tokens 64` would otherwise cost seconds and gigabytes. Encodes a growing prefix, cut at a
 * whitespace where there is one, until it yields `maxTokens + 16` ids (so the cut cannot change
 * the ids kept) or covers the whole text. Same ids as `encode(text).slice(0, maxTokens)`.
 */
export function encodePrefix(tokenizer: TextTokenizer, text: string, maxTokens: number): number[] {
  if (!Number.isFinite(maxTokens)) {
    return tokenizer.encode(text)
  }
  let chars = Math.max(64, (maxTokens + MARGIN_TOKENS) * CHARS_PER_TOKEN)
  for (;;) {
    if (chars >= text.length) {
      return tokenizer.encode(text).slice(0, maxTokens)
    }
    let cut = chars
    const space = text.lastIndexOf(' ', chars)
    if (space > chars / 2) {
      cut = space
    }
    const ids = tokenizer.encode(text.slice(0, cut))
    if (ids.length >= maxTokens + MARGIN_TOKENS) {
      return ids.slice(0, maxTokens)
    }
    chars *= 4
  }
}
