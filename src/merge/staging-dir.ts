import {existsSync} from 'node:fs'
import {mkdir, realpath, rename, rm} from 'node:fs/promises'
import {basename, dirname, join, resolve, sep} from 'node:path'
import {MergeError} from '../errors.js'
import {fsReason, isOutOfSpace} from '../util/fs-error.js'

/**
 * A temporary folder to build `out` in: `<parent>/.<name>.dlec-partial-<pid>-<time>/<name>`, on
 * the same filesystem (so the final rename is atomic) and with the same base name as `out` (what
 * mergekit puts in its model card title). Refused up front when `out` exists and `force` is not set.
 * `commit()` moves it into place, replacing an old `out`; `discard()` removes it. Nothing is ever
 * written into `out` itself.
 */
export async function stagingDir(out: string, force = false): Promise<{dir: string; commit(): Promise<void>; discard(): Promise<void>}> {
  refuseExistingOutput(out, force)
  const holder = join(dirname(out), `.${basename(out)}.dlec-partial-${process.pid}-${Date.now()}`)
  const dir = join(holder, basename(out))
  try {
    // Not recursive where the parent exists: a recursive mkdir reports a read-only parent as ENOENT.
    if (existsSync(dirname(out))) {
      await mkdir(holder)
      await mkdir(dir)
    } else {
      await mkdir(dir, {recursive: true})
    }
  } catch (error) {
    await rm(holder, {recursive: true, force: true}).catch(() => undefined)
    throw new MergeError(`${out}: cannot create the output folder beside it (${fsReason(error)})`, isOutOfSpace(error) ? 'DLEC_MERGE_NO_SPACE' : 'DLEC_MERGE_WRITE', {cause: error})
  }
  return {
    dir,
    async commit() {
      if (existsSync(out)) {
        const old = join(holder, 'replaced')
        await rename(out, old)
      }
      await rename(dir, out)
      await rm(holder, {recursive: true, force: true})
    },
    async discard() {
      await rm(holder, {recursive: true, force: true})
    },
  }
}

/** Throws when `out` exists and `force` is not set: called up front by work that ends in a merge. */
export function refuseExistingOutput(out: string, force = false): void {
  if (existsSync(out) && !force) {
    throw new MergeError(`${out} already exists (use --force to replace it)`)
  }
}

/**
 * Where `out` really is: its real path when it exists (a symlink is followed), else the real path
 * of the nearest existing parent plus the rest. Overlap checks compare real paths, so a source
 * reached through a symlink cannot be replaced by `--force`.
 */
export async function realOutputPath(out: string): Promise<string> {
  let head = resolve(out)
  const rest: string[] = []
  for (;;) {
    try {
      return join(await realpath(head), ...rest)
    } catch {
      const parent = dirname(head)
      if (parent === head) {
        return resolve(out)
      }
      rest.unshift(basename(head))
      head = parent
    }
  }
}

/** Refuses an output folder that is, holds, or lies inside a source folder (both real paths). */
export function refuseOverlap(realOut: string, realSource: string, out: string, source: string): void {
  if (realOut === realSource || realSource.startsWith(realOut + sep) || realOut.startsWith(realSource + sep)) {
    throw new MergeError(`${out} overlaps the source model folder ${source}${realSource === source ? '' : ` (${realSource})`}: write the merge somewhere else`, 'DLEC_MERGE_OVERLAP')
  }
}
