import {createWriteStream, existsSync} from 'node:fs'
import {mkdir, rename, rm, symlink, writeFile} from 'node:fs/promises'
import {dirname, join, relative} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import type {ReadableStream as WebReadableStream} from 'node:stream/web'
import {downloadFile, listFiles, modelInfo} from '@huggingface/hub'
import {HubError} from '../errors.js'
import {checkShardPath} from '../safetensors/index-json.js'
import {type CachedSnapshot, isCompleteCheckpoint, repoFolderName} from './hf-cache.js'

export interface HubAccess {
  hubUrl?: string
  accessToken?: string
  fetch?: typeof fetch
}

export interface DownloadEvent {
  type: 'download-file'
  path: string
  bytes: number
}

/** Top-level repo files a merge or profile needs: what mergekit fetches, plus tokenizer extras. */
export function isNeededFile(path: string): boolean {
  if (path.includes('/')) {
    return false
  }
  return /\.(json|safetensors|jinja)$/.test(path) || ['tokenizer.model', 'merges.txt', 'vocab.txt'].includes(path)
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
  const access = {hubUrl: params.hubUrl, accessToken: params.accessToken, fetch: params.fetch}
  const revision = params.revision ?? 'main'
  const repo = {type: 'model' as const, name: params.repoId}
  const repoDir = join(params.cacheDir, repoFolderName(params.repoId))
  try {
    const info = await modelInfo({...access, name: params.repoId, revision, additionalFields: ['sha']})
    const commit = info.sha
    const snapshot = join(repoDir, 'snapshots', commit)
    for await (const entry of listFiles({...access, repo, revision: commit})) {
      if (entry.type !== 'file' || !isNeededFile(entry.path)) {
        continue
      }
      checkShardPath(entry.path, entry.path, `${params.repoId} file list`)
      const etag = entry.lfs?.oid ?? entry.xetHash ?? entry.oid
      if (etag === undefined || !/^[0-9a-f]+$/.test(etag)) {
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
      await mkdir(join(repoDir, 'refs'), {recursive: true})
      await writeFile(join(repoDir, 'refs', revision), commit)
    }
    if (!(await isCompleteCheckpoint(snapshot))) {
      throw new HubError(`${params.repoId}@${revision}: the repo has no config.json with safetensors weights`)
    }
    return {dir: snapshot, commit}
  } catch (error) {
    if (error instanceof HubError) {
      throw error
    }
    throw new HubError(`${params.repoId}: download from the Hub failed: ${(error as Error).message}`, 'DLEC_HUB', {cause: error})
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
