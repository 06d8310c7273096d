import {existsSync} from 'node:fs'
import {UsageError} from '../errors.js'

/** A model argument split into what to look up and at which revision. */
export interface ModelArg {
  model: string
  revision?: string
}

/**
 * Splits a model argument: a local folder as is (even with an `@` in its name); else `org/name` or
 * `org/name@rev`, where `revisionFlag` (--revision) may name the revision instead. Both naming
 * different revisions, an empty revision, two `@`, or --revision with a local folder: one-line
 * UsageError naming `what` (the argument or flag).
 */
export function parseModelArg(arg: string, revisionFlag?: string, what = 'MODEL'): ModelArg {
  const flag = revisionFlag === '' ? undefined : revisionFlag
  if (existsSync(arg)) {
    if (flag !== undefined) {
      throw new UsageError(`--revision ${flag}: ${arg} is a local folder (a revision applies to a Hub id)`)
    }
    return {model: arg}
  }
  const at = arg.indexOf('@')
  if (at < 0) {
    return flag === undefined ? {model: arg} : {model: arg, revision: flag}
  }
  const model = arg.slice(0, at)
  const revision = arg.slice(at + 1)
  if (model === '' || revision === '' || revision.includes('@')) {
    throw new UsageError(`${what} ${arg}: expected org/name or org/name@revision (one @, a branch, tag or commit after it)`)
  }
  if (flag !== undefined && flag !== revision) {
    throw new UsageError(`${what} ${arg} names revision ${revision} but --revision says ${flag}: give one`)
  }
  return {model, revision}
}
