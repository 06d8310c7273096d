import {randomBytes} from 'node:crypto'
import {renameSync, rmSync, writeFileSync} from 'node:fs'
import {rename, rm, writeFile} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/**
 * The one write-to-a-temp-path-then-rename of dlec: nothing at `path` is ever half-written (a crash,
 * a full disk or a signal leaves the old file or none), and the temp file is removed on failure.
 * The temp path is a hidden sibling (same folder, so the rename is atomic), unique per call.
 */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.dlec-tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** Runs `write(tmp)`, which creates the file at `tmp`, then renames it to `path`; on failure removes `tmp`. */
export async function withTempFile<T>(path: string, write: (tmp: string) => Promise<T> | T): Promise<T> {
  const tmp = tempPathFor(path)
  try {
    const result = await write(tmp)
    await rename(tmp, path)
    return result
  } catch (error) {
    await rm(tmp, {force: true})
    throw error
  }
}

/** Synchronous `withTempFile`. */
export function withTempFileSync<T>(path: string, write: (tmp: string) => T): T {
  const tmp = tempPathFor(path)
  try {
    const result = write(tmp)
    renameSync(tmp, path)
    return result
  } catch (error) {
    rmSync(tmp, {force: true})
    throw error
  }
}

export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await withTempFile(path, (tmp) => writeFile(tmp, data))
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  withTempFileSync(path, (tmp) => writeFileSync(tmp, data))
}
