/** What every secret is replaced with in text dlec prints. */
export const REDACTED = '[redacted]'

/**
 * `text` with every secret removed: the given tokens (verbatim and URL-encoded), anything that
 * looks like a Hugging Face token (`hf_...`) and the value of any `Bearer` / `Authorization`
 * credential a Hub error body echoes back. Pure.
 */
export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) {
      out = out.split(secret).join(REDACTED).split(encodeURIComponent(secret)).join(REDACTED)
    }
  }
  return out
    .replace(/\bhf_[A-Za-z0-9_-]{4,}/g, REDACTED)
    .replace(/\b(Bearer|Basic|token)(\s+|=)(?!\[redacted\])[A-Za-z0-9._~+/=-]{4,}/gi, `$1$2${REDACTED}`)
    .replace(/("?authorization"?\s*[:=]\s*"?)(?!\[redacted\])[^"\s,}]+(\s+[^"\s,}]+)?/gi, `$1${REDACTED}`)
}

/** A URL as dlec names it in an error: no query string (presigned upload URLs carry credentials there), no user info. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return redactSecrets(url.split('?')[0] ?? '')
  }
}
