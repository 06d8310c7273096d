import {toConfiguredId, type Hook} from '@oclif/core'

/**
 * `finally` hook of the standalone bin: after @oclif/plugin-not-found has refused an unknown
 * command, name the closest one when stdin is not a terminal. (On a terminal plugin-not-found asks
 * "Did you mean ...?" itself; elsewhere, e.g. in CI, it only says the command does not exist and
 * must not wait for an answer.)
 */
const hook: Hook<'finally'> = async function (opts) {
  if (opts.Command !== undefined || opts.error === undefined || process.stdin.isTTY === true) {
    return
  }
  const id = opts.id ?? ''
  if (id === '' || opts.config.findCommand(id) !== undefined || opts.config.findTopic(id) !== undefined) {
    return
  }
  const ids = opts.config.commands.filter((c) => c.hidden !== true).flatMap((c) => [c.id, ...c.aliases])
  const suggestion = closest(id, ids)
  if (suggestion !== undefined) {
    const shown = toConfiguredId(suggestion, opts.config)
    process.stderr.write(`Did you mean ${shown}? Run: ${opts.config.bin} ${shown} --help\n`)
  }
}

export default hook

/**
 * The command id closest to what was typed. oclif joins the unknown command and its arguments into
 * one id (`pla fixtures/m` arrives as `pla:fixtures/m`), so each leading run of k words is compared
 * with the ids of k words, and the smallest edit distance wins (the first of a tie).
 */
export function closest(typed: string, ids: string[]): string | undefined {
  const words = typed.split(':')
  let best: string | undefined
  let bestDistance = Infinity
  for (const id of ids) {
    const k = id.split(':').length
    if (k > words.length) {
      continue
    }
    const d = editDistance(words.slice(0, k).join(':'), id)
    if (d < bestDistance) {
      best = id
      bestDistance = d
    }
  }
  return best
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
