import {existsSync} from 'node:fs'
import {mkdir, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {MergeError} from '../errors.js'

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
  await mkdir(dir, {recursive: true})
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
