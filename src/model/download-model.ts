import {createWriteStream, existsSync} from 'node:fs'
import {mkdir, rename, rm, symlink, writeFile} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import type {ReadableStream as WebReadableStream} from 'node:stream/web'
import {downloadFile, listFiles, modelInfo} from '@huggingface/hub'
import {HubError} from '../errors.js'
import {toHubError} from '../hub/hub-error.js'
import {hubFetch} from '../hub/hub-fetch.js'
import {type CachedSnapshot, COMMIT_HASH, isCompleteCheckpoint, repoFolderName} from './hf-cache.js'

/** A branch, tag or commit dlec asks the Hub for (also the name of a `refs/` file): no `..`, no leading `/` or `-`. */
export const REVISION = /^(?!.*\.\.)(?![-/.])[A-Za-z0-9._/-]{1,200}(?<![/.])$/
/** A top-level repo file name dlec writes into a snapshot: no separators, no leading dot, no control characters. */
const SAFE_FILE = /^(?!\.)[A-Za-z0-9._-]{1,200}$/

export interface HubAccess {
  hubUrl?: string
  accessToken?: string
  fetch?: typeof fetch
  /** Connect and idle timeout of every Hub request (default DEFAULT_HUB_TIMEOUT_MS). */
  timeoutMs?: number
}

export interface DownloadEvent {
  type: 'download-file'
  path: string
  bytes: number
}

/** Top-level repo files a merge or profile needs: what mergekit fetches, plus tokenizer extras and the card (its license goes into dlec's card). */
export function isNeededFile(path: string): boolean {
  if (path.includes('/')) {
    return false
  }
  return /\.(json|safetensors|jinja)$/.test(path) || ['tokenizer.model', 'merges.txt', 'vocab.txt', 'README.md'].includes(path)
}

/**
 * Downloads the files of a Hub model repo that dlec needs into an HF hub cache, in huggingface_hub's
 * layout (`blobs/<etag>`, `snapshots/<commit>/<file>` symlinks, `refs/<revision>`), so Python tools
 * share it. Yields one event per file downloaded; returns the snapshot. Blobs are written to
 * `<blob>.incomplete` and renamed when complete.
 */
export async function* downloadModel(
  params: {repoId: string; revision?: string; cacheDir: string} & HubAccess,
): AsyncGenerator<DownloadEvent, CachedSnapshot> {
  const secrets = [params.accessToken]
  const access = {hubUrl: params.hubUrl, accessToken: params.accessToken, fetch: hubFetch({fetch: params.fetch, timeoutMs: params.timeoutMs, secrets})}
  const revision = params.revision ?? 'main'
  if (!REVISION.test(revision)) {
    throw new HubError(`${params.repoId}@${revision}: not a branch, tag or commit name`, 'DLEC_HUB_REVISION')
  }
  const repo = {type: 'model' as const, name: params.repoId}
  const repoDir = join(params.cacheDir, repoFolderName(params.repoId))
  try {
    const info = await modelInfo({...access, name: params.repoId, revision, additionalFields: ['sha']})
    const commit = info.sha
    // The commit id names the snapshot folder: a crafted one (`../..`) must not pick the path.
    if (typeof commit !== 'string' || !COMMIT_HASH.test(commit)) {
      throw new HubError(`${params.repoId}@${revision}: the Hub answered a malformed commit id ${JSON.stringify(String(commit)).slice(0, 60)}`, 'DLEC_HUB_ANSWER')
    }
    const snapshot = join(repoDir, 'snapshots', commit)
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
      const blob = join(repoDir, 'blobs', etag)
      const pointer = join(snapshot, entry.path)
      await fetchBlob({...access, repo, path: entry.path, revision: commit, blob})
      await mkdir(dirname(pointer), {recursive: true})
      await rm(pointer, {force: true})
      await symlink(relative(dirname(pointer), blob), pointer)
      yield {type: 'download-file', path: entry.path, bytes: entry.size}
    }
    if (revision !== commit) {
      const ref = join(repoDir, 'refs', revision)
      await mkdir(dirname(ref), {recursive: true})
      await writeFile(ref, commit)
    }
    if (!(await isCompleteCheckpoint(snapshot))) {
      throw new HubError(`${params.repoId}@${revision}: the repo has no config.json with safetensors weights`)
    }
    return {dir: snapshot, commit}
  } catch (error) {
    if (error instanceof HubError) {
      throw error
    }
    throw toHubError(error, `${params.repoId}: download from the Hub failed`, secrets)
  }
}

async function fetchBlob(params: {repo: {type: 'model'; name: string}; path: string; revision: string; blob: string} & HubAccess): Promise<void> {
  const {blob, ...rest} = params
  if (existsSync(blob)) {
    return
  }
  const file = await downloadFile({...rest, xet: false})
  if (file === null) {
    throw new HubError(`${params.repo.name}: ${params.path} not found at ${params.revision}`)
  }
  await mkdir(dirname(blob), {recursive: true})
  const incomplete = `${blob}.incomplete`
  await pipeline(Readable.fromWeb(file.stream() as unknown as WebReadableStream<Uint8Array>), createWriteStream(incomplete))
  await rename(incomplete, blob)
}
