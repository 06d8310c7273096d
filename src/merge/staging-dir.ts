import {existsSync} from 'node:fs'
import {mkdir, rename, rm} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {MergeError} from '../errors.js'

/**
 * A temporary folder beside `out` (same filesystem, so the final rename is atomic), refused up
 * front when `out` exists and `force` is not set. `commit()` moves it into place, replacing an old
 * `out`; `discard()` removes it. Nothing is ever written into `out` itself.
 */
export async function stagingDir(out: string, force = false): Promise<{dir: string; commit(): Promise<void>; discard(): Promise<void>}> {
  if (existsSync(out) && !force) {
    throw new MergeError(`${out} already exists (use --force to replace it)`)
  }
  const dir = join(dirname(out), `.${basename(out)}.dlec-partial-${process.pid}-${Date.now()}`)
  await mkdir(dir, {recursive: true})
  return {
    dir,
    async commit() {
      if (!existsSync(out)) {
        await rename(dir, out)
        return
      }
      const old = `${dir}-old`
      await rename(out, old)
      await rename(dir, out)
      await rm(old, {recursive: true, force: true})
    },
    async discard() {
      await rm(dir, {recursive: true, force: true})
    },
  }
}
