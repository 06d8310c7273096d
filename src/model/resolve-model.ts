import {existsSync, statSync} from 'node:fs'
import {resolve} from 'node:path'
import {HubError, ModelError} from '../errors.js'
import {type DownloadEvent, downloadModel, type HubAccess} from './download-model.js'
import {cachedRevisions, findCachedSnapshot, isHubModelId} from './hf-cache.js'

/** Where Hub models are looked up: the HF hub cache folder, offline mode, endpoint and token. */
export interface ModelLookup extends HubAccess {
  /** The Hugging Face hub cache (HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub). */
  hubCache?: string
  offline?: boolean
  /** Files downloaded at once (default 4). */
  concurrency?: number
}

export interface ResolvedModel {
  /** The folder holding config.json and the safetensors files. */
  dir: string
  /** What the user named: the Hub id, or the local folder as given. */
  id: string
  /** The commit of a Hub snapshot; absent for a local folder. */
  revision?: string
}

/**
 * Finds a model: `model` as a local folder; else a Hub id (`org/name`) in the standard HF hub
 * cache at `revision` (default `main`); else downloaded into that cache, unless `offline`. The
 * caller passes `cacheDir` (HF_HUB_CACHE / HF_HOME/hub / ~/.cache/huggingface/hub).
 */
export async function resolveModel(params: ResolveModelParams & {onProgress?: (event: DownloadEvent) => void}): Promise<ResolvedModel> {
  const it = resolveModelIter(params)
  for (;;) {
    const next = await it.next()
    if (next.done) {
      return next.value
    }
    params.onProgress?.(next.value)
  }
}

export type ResolveModelParams = {
  model: string
  revision?: string
  cacheDir?: string
  offline?: boolean
  /** Files downloaded at once (default 4). */
  concurrency?: number
} & HubAccess

/** resolveModel as a generator: yields the download's progress events (none for a folder or a cached snapshot). */
export async function* resolveModelIter(params: ResolveModelParams): AsyncGenerator<DownloadEvent, ResolvedModel> {
  const {model} = params
  if (existsSync(model)) {
    if (!statSync(model).isDirectory()) {
      throw new ModelError(`${model}: not a folder (a model is a folder with config.json and safetensors, or a Hub id)`)
    }
    return {dir: resolve(model), id: model}
  }
  if (!isHubModelId(model) || model.startsWith('.') || model.startsWith('/')) {
    throw new ModelError(`${model}: no such folder, and not a Hub model id`)
  }
  if (params.cacheDir === undefined) {
    throw new ModelError(`${model}: no such folder (no Hugging Face cache folder given to look it up)`)
  }
  const cached = await findCachedSnapshot({cacheDir: params.cacheDir, repoId: model, revision: params.revision})
  if (cached) {
    return {dir: cached.dir, id: model, revision: cached.commit}
  }
  if (params.offline) {
    const at = params.revision ? `@${params.revision}` : ''
    const held = await cachedRevisions({cacheDir: params.cacheDir, repoId: model})
    const has = held.length === 0 ? 'it holds no revision of it' : `it holds ${held.slice(0, 6).join(', ')}${held.length > 6 ? ', ...' : ''}`
    throw new HubError(`${model}${at}: not in the Hugging Face cache ${params.cacheDir} and HF_HUB_OFFLINE is set (${has})`, 'DLEC_HUB_OFFLINE')
  }
  const snapshot = yield* downloadModel({
    repoId: model,
    revision: params.revision,
    cacheDir: params.cacheDir,
    hubUrl: params.hubUrl,
    accessToken: params.accessToken,
    fetch: params.fetch,
    timeoutMs: params.timeoutMs,
    concurrency: params.concurrency,
  })
  return {dir: snapshot.dir, id: model, revision: snapshot.commit}
}
