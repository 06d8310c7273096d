import {createHash, type Hash} from 'node:crypto'
import {createReadStream, createWriteStream, existsSync} from 'node:fs'
import {mkdir, rename, rm, stat, symlink, truncate, writeFile} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {listFiles, modelInfo} from '@huggingface/hub'
import {HubError} from '../errors.js'
import {toHubError} from '../hub/hub-error.js'
import {hubFetch} from '../hub/hub-fetch.js'
import {describeUrl} from '../hub/redact.js'
import {type CachedSnapshot, COMMIT_HASH, isCompleteCheckpoint, repoFolderName} from './hf-cache.js'

/** A branch, tag or commit dlec asks the Hub for (also the name of a `refs/` file): no `..`, no leading `/` or `-`. */
export const REVISION = /^(?!.*\.\.)(?![-/.])[A-Za-z0-9._/-]{1,200}(?<![/.])$/
/** A top-level repo file name dlec writes into a snapshot: no separators, no leading dot, no control characters. */
const SAFE_FILE = /^(?!\.)[A-Za-z0-9._-]{1,200}$/
/** Files fetched at once by default. */
export const DEFAULT_DOWNLOAD_CONCURRENCY = 4
/** At most one progress event per this many milliseconds (besides one per finished file). */
const PROGRESS_EVERY_MS = 200
const DEFAULT_HUB_URL = 'https://huggingface.co'

export interface HubAccess {
  hubUrl?: string
  accessToken?: string
  fetch?: typeof fetch
  /** Connect and idle timeout of every Hub request: a download fails when no byte comes for this long (default DEFAULT_HUB_TIMEOUT_MS). */
  timeoutMs?: number
}

/** What a download reports: the file list once, bytes with rate and ETA as they come, each file when it is in the cache. */
export type DownloadEvent =
  | {type: 'download-start'; repo: string; revision: string; commit: string; files: number; totalBytes: number; cachedBytes: number}
  | {type: 'download-progress'; repo: string; bytesDone: number; totalBytes: number; bytesPerSecond: number; etaSeconds?: number}
  | {type: 'download-file'; path: string; bytes: number; resumedFrom: number}
  | {type: 'download-done'; repo: string; commit: string; bytes: number; seconds: number}

/** Top-level repo files a merge or profile needs: what mergekit fetches, plus tokenizer extras and the card (its license goes into dlec's card). */
export function isNeededFile(path: string): boolean {
  if (path.includes('/')) {
    return false
  }
  return /\.(json|safetensors|jinja)$/.test(path) || ['tokenizer.model', 'merges.txt', 'vocab.txt', 'README.md'].includes(path)
}

interface PlannedFile {
  path: string
  size: number
  etag: string
  /** How the etag checks the bytes: sha256 of the content (LFS), git's blob sha1 (regular files), or none (a xet hash). */
  check: 'sha256' | 'git-sha1' | 'none'
  blob: string
  url: string
}

/**
 * Downloads the files of a Hub model repo that dlec needs into an HF hub cache, in huggingface_hub's
 * layout (`blobs/<etag>`, `snapshots/<commit>/<file>` symlinks, `refs/<revision>`), so Python tools
 * share it. Up to `concurrency` files at once; a blob is written to `<blob>.incomplete` (resumed
 * with an HTTP Range request when one is there from an interrupted download, by dlec or
 * huggingface_hub), checked against its etag (sha256 of an LFS file, git blob sha1 of a regular
 * one) and renamed into place. A Hub sending no byte for `timeoutMs` fails the download. Every error
 * names the URL (no query, no token). Yields a start event, progress (bytes, rate, ETA) and one
 * event per file; returns the snapshot.
 */
export async function* downloadModel(
  params: {repoId: string; revision?: string; cacheDir: string; concurrency?: number} & HubAccess,
): AsyncGenerator<DownloadEvent, CachedSnapshot> {
  const secrets = [params.accessToken]
  const fetchHub = hubFetch({fetch: params.fetch, timeoutMs: params.timeoutMs, secrets})
  const access = {hubUrl: params.hubUrl, accessToken: params.accessToken, fetch: fetchHub}
  const revision = params.revision ?? 'main'
  if (!REVISION.test(revision)) {
    throw new HubError(`${params.repoId}@${revision}: not a branch, tag or commit name`, 'DLEC_HUB_REVISION')
  }
  const repo = {type: 'model' as const, name: params.repoId}
  const repoDir = join(params.cacheDir, repoFolderName(params.repoId))
  const hubUrl = (params.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '')
  let commit: string
  const files: PlannedFile[] = []
  try {
    const info = await modelInfo({...access, name: params.repoId, revision, additionalFields: ['sha']})
    // The commit id names the snapshot folder: a crafted one (`../..`) must not pick the path.
    if (typeof info.sha !== 'string' || !COMMIT_HASH.test(info.sha)) {
      throw new HubError(`${params.repoId}@${revision}: the Hub answered a malformed commit id ${JSON.stringify(String(info.sha)).slice(0, 60)}`, 'DLEC_HUB_ANSWER')
    }
    commit = info.sha
    for await (const entry of listFiles({...access, repo, revision: commit})) {
      if (entry.type !== 'file' || !isNeededFile(entry.path)) {
        continue
      }
      if (typeof entry.path !== 'string' || !SAFE_FILE.test(entry.path)) {
        throw new HubError(`${params.repoId}: the Hub's file list names ${JSON.stringify(String(entry.path)).slice(0, 80)}, not a plain file name`, 'DLEC_HUB_ANSWER')
      }
      const etag = entry.lfs?.oid ?? entry.xetHash ?? entry.oid
      if (typeof etag !== 'string' || !/^[0-9a-f]{40,128}$/.test(etag)) {
        throw new HubError(`${params.repoId}: no usable hash for ${entry.path} in the file list`)
      }
      if (!Number.isSafeInteger(entry.size) || entry.size < 0) {
        throw new HubError(`${params.repoId}: the file list gives ${entry.path} a size of ${JSON.stringify(entry.size)}`, 'DLEC_HUB_ANSWER')
      }
      const check = entry.lfs?.oid === etag ? 'sha256' : entry.oid === etag ? 'git-sha1' : 'none'
      const url = `${hubUrl}/${params.repoId}/resolve/${commit}/${encodeURIComponent(entry.path)}`
      files.push({path: entry.path, size: entry.size, etag, check, blob: join(repoDir, 'blobs', etag), url})
    }
  } catch (error) {
    throw error instanceof HubError ? error : toHubError(error, `${params.repoId}: download from the Hub failed`, secrets)
  }
  const snapshot = join(repoDir, 'snapshots', commit)
  const totalBytes = files.reduce((a, f) => a + f.size, 0)
  const cached = files.filter((f) => existsSync(f.blob))
  const cachedBytes = cached.reduce((a, f) => a + f.size, 0)
  yield {type: 'download-start', repo: params.repoId, revision, commit, files: files.length, totalBytes, cachedBytes}
  const started = Date.now()
  let moved = 0
  let done = cachedBytes
  const progress = (): DownloadEvent => {
    const seconds = Math.max(1e-3, (Date.now() - started) / 1000)
    const bytesPerSecond = moved / seconds
    const left = totalBytes - done
    return {type: 'download-progress', repo: params.repoId, bytesDone: done, totalBytes, bytesPerSecond, ...(bytesPerSecond > 0 ? {etaSeconds: left / bytesPerSecond} : {})}
  }
  const events: DownloadEvent[] = []
  let wake: (() => void) | undefined
  const notify = (): void => {
    wake?.()
    wake = undefined
  }
  let lastProgress = 0
  const onBytes = (n: number): void => {
    moved += n
    done += n
    const now = Date.now()
    if (now - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = now
      events.push(progress())
      notify()
    }
  }
  const queue = files.filter((f) => !existsSync(f.blob))
  const controller = new AbortController()
  let failure: unknown
  const worker = async (): Promise<void> => {
    for (let file = queue.shift(); file !== undefined && failure === undefined; file = queue.shift()) {
      const resumedFrom = await fetchBlob({file, fetch: fetchHub, accessToken: params.accessToken, signal: controller.signal, onBytes})
      done += resumedFrom
      events.push({type: 'download-file', path: file.path, bytes: file.size, resumedFrom}, progress())
      notify()
    }
  }
  const concurrency = Math.max(1, params.concurrency ?? DEFAULT_DOWNLOAD_CONCURRENCY)
  let running = Math.min(concurrency, queue.length)
  const workers = Array.from({length: running}, () =>
    worker()
      .catch((error: unknown) => {
        // The first failure stops the others (their partial blobs stay, to be resumed).
        failure ??= error
        controller.abort(error)
      })
      .finally(() => {
        running -= 1
        notify()
      }),
  )
  try {
    while (running > 0 || events.length > 0) {
      const next = events.shift()
      if (next !== undefined) {
        yield next
      } else {
        await new Promise<void>((r) => {
          wake = r
        })
      }
    }
  } finally {
    if (running > 0) {
      // Closed early (a signal): stop the transfers before returning.
      controller.abort(new HubError(`${params.repoId}: download stopped`, 'DLEC_HUB_STOPPED'))
      await Promise.allSettled(workers)
    }
  }
  if (failure !== undefined) {
    throw failure instanceof HubError ? failure : toHubError(failure, `${params.repoId}: download from the Hub failed`, secrets)
  }
  for (const file of files) {
    const pointer = join(snapshot, file.path)
    await mkdir(dirname(pointer), {recursive: true})
    await rm(pointer, {force: true})
    await symlink(relative(dirname(pointer), file.blob), pointer)
  }
  if (revision !== commit) {
    const ref = join(repoDir, 'refs', revision)
    await mkdir(dirname(ref), {recursive: true})
    await writeFile(ref, commit)
  }
  if (!(await isCompleteCheckpoint(snapshot))) {
    throw new HubError(`${params.repoId}@${revision}: the repo has no config.json with safetensors weights`)
  }
  yield {type: 'download-done', repo: params.repoId, commit, bytes: moved, seconds: (Date.now() - started) / 1000}
  return {dir: snapshot, commit}
}

/**
 * Fetches one file into `<blob>.incomplete`, continuing a partial one with `Range: bytes=N-` (a
 * Hub answering 200 instead restarts it), checks size and hash, and renames it to the blob.
 * Returns the bytes that were there already. Errors name the URL.
 */
async function fetchBlob(params: {
  file: PlannedFile
  fetch: typeof fetch
  accessToken?: string
  signal: AbortSignal
  onBytes: (n: number) => void
}): Promise<number> {
  const {file} = params
  const where = `GET ${describeUrl(file.url)}`
  await mkdir(dirname(file.blob), {recursive: true})
  const incomplete = `${file.blob}.incomplete`
  let start = 0
  try {
    start = (await stat(incomplete)).size
  } catch {
    start = 0
  }
  if (start > file.size) {
    await truncate(incomplete, 0)
    start = 0
  }
  const headers: Record<string, string> = {}
  if (params.accessToken) {
    headers.authorization = `Bearer ${params.accessToken}`
  }
  let resumedFrom = 0
  if (start > 0 && start < file.size) {
    headers.range = `bytes=${start}-`
  }
  let body: ReadableStream<Uint8Array> | null = null
  if (start < file.size || file.size === 0) {
    const response = await params.fetch(file.url, {headers, signal: params.signal, redirect: 'follow'})
    if (response.status === 206 && headers.range !== undefined) {
      const range = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')
      if (range === null || Number(range[1]) !== start) {
        await response.body?.cancel()
        throw new HubError(`${where}: asked for bytes ${start}- and the Hub answered Content-Range ${JSON.stringify(response.headers.get('content-range'))}`, 'DLEC_HUB_ANSWER')
      }
      resumedFrom = start
    } else if (response.status === 200) {
      resumedFrom = 0
    } else {
      await response.body?.cancel()
      const hint = response.status === 401 || response.status === 403 ? ' (a gated or private repo: give --token, HF_TOKEN or `hf auth login`)' : ''
      throw new HubError(`${where}: the Hub answered ${response.status}${hint}`, response.status === 401 || response.status === 403 ? 'DLEC_HUB_AUTH' : 'DLEC_HUB_HTTP')
    }
    body = response.body
  } else {
    resumedFrom = start
  }
  const hash = hasher(file)
  if (hash !== undefined && resumedFrom > 0) {
    for await (const chunk of createReadStream(incomplete, {end: resumedFrom - 1})) {
      hash.update(chunk as Buffer)
    }
  }
  if (body !== null) {
    if (resumedFrom === 0) {
      await truncate(incomplete, 0).catch(() => undefined)
    }
    const out = createWriteStream(incomplete, {flags: resumedFrom > 0 ? 'a' : 'w'})
    let written = resumedFrom
    try {
      for await (const chunk of body) {
        written += chunk.byteLength
        if (written > file.size) {
          throw new HubError(`${where}: the Hub sent more than the ${file.size} bytes its file list gives ${file.path}`, 'DLEC_HUB_ANSWER')
        }
        hash?.update(chunk)
        if (!out.write(chunk)) {
          await new Promise<void>((r) => out.once('drain', r))
        }
        params.onBytes(chunk.byteLength)
      }
    } finally {
      await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())))
    }
  }
  const size = (await stat(incomplete)).size
  if (size !== file.size) {
    throw new HubError(`${where}: the download ended at ${size} of ${file.size} bytes (run again to resume it)`, 'DLEC_HUB_TRUNCATED')
  }
  if (hash !== undefined) {
    const got = hash.digest('hex')
    if (got !== file.etag) {
      await rm(incomplete, {force: true})
      throw new HubError(`${where}: the downloaded ${file.path} has ${file.check} ${got}, not the ${file.etag} the Hub lists (removed; run again)`, 'DLEC_HUB_CHECKSUM')
    }
  }
  await rename(incomplete, file.blob)
  return resumedFrom
}

/** The hash a file's etag is: sha256 of the bytes (LFS), git's `blob <size>\0` sha1 (regular files). */
function hasher(file: PlannedFile): Hash | undefined {
  if (file.check === 'sha256') {
    return createHash('sha256')
  }
  return file.check === 'git-sha1' ? createHash('sha1').update(`blob ${file.size}\0`) : undefined
}
