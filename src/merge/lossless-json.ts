/**
 * JSON that keeps every number exactly as written (`30.0` stays `30.0`, not `30`): transformers
 * validates config fields by type, so a float written as an integer can stop a model loading.
 * Numbers parse to JsonNumber; everything else is plain JSON. Pure.
 */
export class JsonNumber {
  constructor(readonly raw: string) {}
}

const SENTINEL = '\u0000dlec-number:'

/** Parses JSON text, numbers as JsonNumber. Throws SyntaxError like JSON.parse. */
export function parseLosslessJson(text: string): unknown {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text[i] ?? ''
    if (c === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') {
        j += text[j] === '\\' ? 2 : 1
      }
      out += text.slice(i, j + 1)
      i = j + 1
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      const match = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))
      const raw = match?.[0] ?? c
      out += JSON.stringify(SENTINEL + raw)
      i += raw.length
    } else {
      out += c
      i += 1
    }
  }
  return JSON.parse(out, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(SENTINEL) ? new JsonNumber(value.slice(SENTINEL.length)) : value,
  )
}

/** JSON text with 2-space indent; JsonNumber values written as their original text. */
export function stringifyLosslessJson(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof JsonNumber ? SENTINEL + v.raw : v), 2)
  const escaped = JSON.stringify(SENTINEL).slice(1, -1)
  return text.replace(new RegExp(`"${escaped.replace(/\\/g, '\\\\')}([^"]*)"`, 'g'), '$1')
}
