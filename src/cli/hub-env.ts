import {homedir} from 'node:os'
import {join} from 'node:path'
import type {ModelLookup} from '../merge/prepare-native-merge.js'

/**
 * Where Hub models are looked up, from the environment as huggingface_hub reads it: HF_HUB_CACHE,
 * else HF_HOME/hub, else ~/.cache/huggingface/hub; HF_HUB_OFFLINE; HF_ENDPOINT; HF_TOKEN.
 */
export function modelLookupFromEnv(env: NodeJS.ProcessEnv = process.env): ModelLookup {
  const cacheDir = env.HF_HUB_CACHE ?? join(env.HF_HOME ?? join(homedir(), '.cache', 'huggingface'), 'hub')
  const offline = ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase())
  return {
    cacheDir,
    offline,
    ...(env.HF_ENDPOINT ? {hubUrl: env.HF_ENDPOINT} : {}),
    ...(env.HF_TOKEN ? {accessToken: env.HF_TOKEN} : {}),
  }
}

/** dlec's own cache (converted weights, ONNX graphs): DLEC_CACHE_DIR, else XDG_CACHE_HOME/dlec, else ~/.cache/dlec. */
export function dlecCacheDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DLEC_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dlec')
}
