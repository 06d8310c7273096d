import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {cpSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'
import {DlecError} from '../../src/errors.js'
import {STORIES} from './cli.js'

/** Copies the bundled stories260K model into `dir` (a model the test may break). */
export function copyStories(dir: string): string {
  cpSync(STORIES, dir, {recursive: true})
  return dir
}

/**
 * Mounts a tmpfs of `sizeKb` on `dir` (read-only with `readOnly`): a real full disk or read-only
 * output for fault tests (root can write through chmod, not through a read-only mount). Returns the
 * unmount function.
 */
export function mountTmpfs(dir: string, opts: {sizeKb?: number; readOnly?: boolean} = {}): () => void {
  mkdirSync(dir, {recursive: true})
  const options = [`size=${opts.sizeKb ?? 1024}k`, ...(opts.readOnly === true ? ['ro'] : [])].join(',')
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir])
  return () => execFileSync('umount', ['-l', dir])
}

/** Every file under `dir` with its type, size and content hash (links: their target): to prove inputs untouched. */
export function treeSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  const walk = (at: string, rel: string): void => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name)
      const key = rel === '' ? name : `${rel}/${name}`
      const st = lstatSync(path)
      if (st.isSymbolicLink()) {
        out[key] = `link ${readlinkSync(path)}`
      } else if (st.isDirectory()) {
        out[key] = 'dir'
        walk(path, key)
      } else if (st.isFile()) {
        out[key] = `file ${st.size} ${createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16)}`
      } else {
        out[key] = 'special'
      }
    }
  }
  walk(dir, '')
  return out
}

/** Names in `dir` that a dlec write leaves only while it runs: staging folders and temp files. */
export function leftovers(dir: string): string[] {
  return readdirSync(dir, {recursive: true})
    .map(String)
    .filter((name) => /dlec-partial|dlec-tmp|\.tmp-\d+|\.tmp$/.test(name))
}

/** Asserts `fn` throws a DlecError of `kind` whose one-line message matches `message`. */
export async function rejectsWith(fn: () => Promise<unknown>, kind: DlecError['kind'], message: RegExp): Promise<DlecError> {
  let caught: unknown
  try {
    await fn()
  } catch (error) {
    caught = error
  }
  assert.ok(caught instanceof DlecError, `expected a DlecError, got ${caught instanceof Error ? caught.stack : String(caught)}`)
  assert.equal(caught.kind, kind, caught.message)
  assert.match(caught.message, message)
  assert.ok(!caught.message.includes('\n'), 'one line')
  return caught
}

/** Drains an async generator, returning its result. */
export async function drain<T>(it: AsyncGenerator<unknown, T>): Promise<T> {
  for (;;) {
    const r = await it.next()
    if (r.done === true) {
      return r.value
    }
  }
}
