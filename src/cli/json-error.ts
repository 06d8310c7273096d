import {DlecError, EXIT_CODES} from '../errors.js'

/** What `--json` prints for a failure: `{"error": JsonError}` on stdout, and the process exits `exit`. */
export interface JsonError {
  code: string
  message: string
  exit: number
}

/** A JSON error message stays one short line (a parse error can name a whole flag table). */
const MAX_MESSAGE = 500

/**
 * The `--json` form of any error a command ends with: a DlecError keeps its code and exit code;
 * an oclif parse error (unknown flag, missing argument, bad option, failed constraint) is a usage
 * error with oclif's own exit code (2, as without --json) and its message on one line, without the
 * parse context oclif attaches to it; anything else is a bug (exit 1, as oclif exits for it).
 */
export function jsonError(error: unknown): JsonError {
  if (error instanceof DlecError) {
    return {code: error.code, message: error.message, exit: error.exitCode}
  }
  const err = (error ?? {}) as {message?: unknown; oclif?: {exit?: unknown}; code?: unknown}
  const message = oneLine(typeof err.message === 'string' ? err.message : String(error))
  const exit = typeof err.oclif?.exit === 'number' ? err.oclif.exit : 1
  if (exit === EXIT_CODES.usage) {
    return {code: 'DLEC_USAGE', message, exit}
  }
  return {code: typeof err.code === 'string' ? err.code : 'DLEC_INTERNAL', message, exit}
}

/** oclif's multi-line parse messages as one line: no ANSI colours, no "See more help" footer. */
function oneLine(message: string): string {
  const lines = message
    // eslint-disable-next-line no-control-regex
    .replace(/\u001B\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'See more help with --help')
  let text = ''
  for (const line of lines) {
    const parsing = /^Parsing (--\S+)$/.exec(text)
    text = text === '' ? line : parsing ? `${parsing[1]}: ${line}` : `${text}${/[:.]$/.test(text) ? ' ' : '; '}${line}`
  }
  const collapsed = text.replace(/\s+/g, ' ')
  return collapsed.length > MAX_MESSAGE ? `${collapsed.slice(0, MAX_MESSAGE - 1)}…` : collapsed
}
