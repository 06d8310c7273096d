import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {modelReferencesOf} from '../mergekit/map-model-references.js'
import type {MergeConfig} from '../mergekit/merge-config.js'
import {formatModelReference, parseModelReference} from '../mergekit/model-reference.js'
import {isHubModelId} from '../model/hf-cache.js'
import {resolveModel, type ModelLookup} from '../model/resolve-model.js'

/**
 * Offline (`lookup.offline`), each model reference of the config that is a Hub id (`org/name`,
 * `org/name@rev`) -> the same reference naming its snapshot folder in the HF cache, because
 * mergekit 0.1.5 fails offline on Hub ids even when they are cached. Empty online. A Hub id not in
 * the cache is the one-line HubError of the lookup. LoRA parts are left as they are.
 */
export async function offlineSnapshots(config: MergeConfig, lookup: ModelLookup | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  if (lookup?.offline !== true) {
    return out
  }
  for (const ref of modelReferencesOf(config)) {
    const parsed = parseModelReference(ref)
    const path = parsed?.model.path
    if (parsed === undefined || path === undefined || existsSync(path) || !isHubModelId(path)) {
      continue
    }
    const resolved = await resolveModel({...lookup, cacheDir: lookup.hubCache, model: path, revision: parsed.model.revision, offline: true})
    out.set(ref, formatModelReference({...parsed, model: {path: resolved.dir}}))
  }
  return out
}

/**
 * What mergekit wrote from a config whose Hub ids were replaced by snapshot folders, given back the
 * user's names: mergekit_config.yml is the original YAML, and the card names the Hub ids, not the
 * cache paths.
 */
export async function restoreModelReferences(dir: string, snapshots: Map<string, string>, yaml: string): Promise<void> {
  const config = join(dir, 'mergekit_config.yml')
  if (existsSync(config)) {
    await writeFile(config, yaml)
  }
  const card = join(dir, 'README.md')
  if (existsSync(card)) {
    let text = await readFile(card, 'utf8')
    // Longest first: a snapshot path is never a prefix of another's replacement.
    for (const [ref, local] of [...snapshots].sort((a, b) => b[1].length - a[1].length)) {
      text = text.split(local).join(ref)
    }
    await writeFile(card, text)
  }
}
