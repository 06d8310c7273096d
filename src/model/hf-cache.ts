import {existsSync} from 'node:fs'
import {readdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {INDEX_FILE, parseIndexJson, SINGLE_FILE} from '../safetensors/index-json.js'

/** A full git commit id: a revision that names a snapshot folder directly. */
export const COMMIT_HASH = /^[0-9a-f]{40}$/

/** `org/name` -> `models--org--name`, the folder of a model repo in the HF hub cache. */
export function repoFolderName(repoId: string): string {
  return ['models', ...repoId.split('/')].join('--')
}

/** Whether `text` looks like a Hub model id (`name` or `org/name`, the Hub's allowed characters). */
export function isHubModelId(text: string): boolean {
  return /^(?:[A-Za-z0-9][A-Za-z0-9._-]*\/)?[A-Za-z0-9][A-Za-z0-9._-]*$/.test(text) && !text.includes('..')
}

export interface CachedSnapshot {
  dir: string
  commit: string
}

/**
 * The snapshot folder of `repoId` at `revision` (branch, tag or commit) in an HF hub cache, if it
 * holds a complete checkpoint: config.json plus model.safetensors, or the index and every shard it
 * names. Branches and tags are looked up in `refs/`, as huggingface_hub writes them.
 */
export async function findCachedSnapshot(params: {cacheDir: string; repoId: string; revision?: string}): Promise<CachedSnapshot | undefined> {
  const repoDir = join(params.cacheDir, repoFolderName(params.repoId))
  const revision = params.revision ?? 'main'
  let commit = revision
  if (!COMMIT_HASH.test(revision)) {
    if (revision.includes('..') || revision.startsWith('/') || revision.includes('\\')) {
      return undefined
    }
    const ref = join(repoDir, 'refs', revision)
    if (!existsSync(ref)) {
      return undefined
    }
    commit = (await readFile(ref, 'utf8')).trim()
    if (!COMMIT_HASH.test(commit)) {
      return undefined
    }
  }
  const dir = join(repoDir, 'snapshots', commit)
  return (await isCompleteCheckpoint(dir)) ? {dir, commit} : undefined
}

/** config.json and every safetensors file the folder's checkpoint needs are present. */
export async function isCompleteCheckpoint(dir: string): Promise<boolean> {
  if (!existsSync(join(dir, 'config.json'))) {
    return false
  }
  const index = join(dir, INDEX_FILE)
  if (existsSync(index)) {
    try {
      const {weightMap} = parseIndexJson(await readFile(index, 'utf8'), index)
      return [...new Set(weightMap.values())].every((file) => existsSync(join(dir, file)))
    } catch {
      return false
    }
  }
  return existsSync(join(dir, SINGLE_FILE))
}

/** What an HF hub cache holds of `repoId`: its refs (branches, tags) and snapshot commits, for an error message. */
export async function cachedRevisions(params: {cacheDir: string; repoId: string}): Promise<string[]> {
  const repoDir = join(params.cacheDir, repoFolderName(params.repoId))
  const list = async (dir: string, prefix = ''): Promise<string[]> => {
    try {
      const entries = await readdir(join(repoDir, dir, prefix), {withFileTypes: true})
      const nested = await Promise.all(entries.map((e) => (e.isDirectory() && dir === 'refs' ? list(dir, join(prefix, e.name)) : Promise.resolve([join(prefix, e.name)]))))
      return nested.flat()
    } catch {
      return []
    }
  }
  return [...(await list('refs')).sort(), ...(await list('snapshots')).sort()]
}
