import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {ModelLookup} from '../model/resolve-model.js'

/**
 * Where Hub models are looked up, from the environment as huggingface_hub reads it: HF_HUB_CACHE,
 * else HF_HOME/hub, else ~/.cache/huggingface/hub; HF_HUB_OFFLINE; HF_ENDPOINT; the token (HF_TOKEN or the token file, for gated and private models).
 */
export function modelLookupFromEnv(env: NodeJS.ProcessEnv = process.env): ModelLookup {
  const cacheDir = env.HF_HUB_CACHE || join(env.HF_HOME || join(homedir(), '.cache', 'huggingface'), 'hub')
  const offline = ['1', 'true', 'yes', 'on'].includes((env.HF_HUB_OFFLINE ?? '').toLowerCase())
  const token = hubTokenFromEnv(undefined, env)
  return {
    hubCache: cacheDir,
    offline,
    ...(env.HF_ENDPOINT ? {hubUrl: env.HF_ENDPOINT} : {}),
    ...(token ? {accessToken: token} : {}),
  }
}

/**
 * The Hub token, from where huggingface_hub looks: the flag, else HF_TOKEN, else the token file
 * `hf auth login` writes (HF_TOKEN_PATH, else $HF_HOME/token, else ~/.cache/huggingface/token).
 */
export function hubTokenFromEnv(flag?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag !== undefined && flag !== '') {
    return flag
  }
  if (env.HF_TOKEN) {
    return env.HF_TOKEN
  }
  const file = env.HF_TOKEN_PATH || join(env.HF_HOME || join(homedir(), '.cache', 'huggingface'), 'token')
  try {
    return readFileSync(file, 'utf8').trim() || undefined
  } catch {
    return undefined
  }
}

/** dlec's own cache (converted weights, ONNX graphs): DLEC_CACHE_DIR, else XDG_CACHE_HOME/dlec, else ~/.cache/dlec. */
export function dlecCacheDirFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.DLEC_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dlec')
}
