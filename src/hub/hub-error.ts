import {HubApiError} from '@huggingface/hub'
import {DlecError, HubError} from '../errors.js'
import {describeUrl, redactSecrets} from './redact.js'

/** Longest piece of a Hub error body dlec repeats. */
const MAX_BODY_CHARS = 300

/**
 * Any failure of a Hub call as a one-line HubError: `context`, the HTTP status and URL (no query)
 * for an API error, and the Hub's message with every secret removed (a Hub error body may echo
 * the Authorization header). dlec's own errors pass through, with their message redacted too.
 */
export function toHubError(error: unknown, context: string, secrets: ReadonlyArray<string | undefined> = []): DlecError {
  const clean = (text: string): string => redactSecrets(text, secrets).replace(/\s+/g, ' ').trim().slice(0, MAX_BODY_CHARS)
  if (error instanceof DlecError) {
    return error instanceof HubError ? new HubError(redactSecrets(`${context}: ${error.message}`, secrets), error.code) : error
  }
  if (error instanceof HubApiError) {
    const message = error.message.replace(/\.\s*URL: .*$/s, '')
    const code = error.statusCode === 401 || error.statusCode === 403 ? 'DLEC_HUB_AUTH' : 'DLEC_HUB_HTTP'
    const hint = error.statusCode === 401 ? ' (is the token valid and allowed to write here?)' : ''
    return new HubError(`${context}: the Hub answered ${error.statusCode} to ${describeUrl(error.url)}: ${clean(message)}${hint}`, code)
  }
  const e = error as Error
  return new HubError(`${context}: ${clean(e?.message ?? String(error))}`, 'DLEC_HUB')
}
