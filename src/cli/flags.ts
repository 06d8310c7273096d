import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import {resolveModel, type ResolvedModel} from '../model/resolve-model.js'
import {parseGrowth, parseParameterCount, type TargetSize} from '../scoring/target-size.js'
import {dlecCacheDirFromEnv, modelLookupFromEnv} from './hub-env.js'

/** Flag factories and flag-to-value helpers shared by the commands (the only place they read the environment). */

/** Memory budget of the expansion curve's cached hidden states (curve, plan, expand). */
export const cacheMemoryFlag = Flags.string({
  description: 'Memory for the cached hidden states that let candidates skip their shared prefix (bytes, K / M / G / T suffix): less means more recomputed layers, the same numbers.',
  default: '2G',
})

export const cacheDirFlag = Flags.directory({description: 'Cache for converted weights and graphs [default: $DLEC_CACHE_DIR or ~/.cache/dlec].'})

/** --cache-dir, else $DLEC_CACHE_DIR, else the XDG cache. */
export function cacheDirOf(flag: string | undefined): string {
  return flag ?? dlecCacheDirFromEnv(process.env)
}

/** A model argument (folder or Hub id) resolved with the HF cache settings of the environment. */
export function resolveModelArg(model: string): Promise<ResolvedModel> {
  return resolveModel({model, ...modelLookupFromEnv(process.env)})
}

const TARGETS = ['add-layers', 'target-params', 'growth']

/** Exactly one of --add-layers, --target-params, --growth. */
export const targetFlags = {
  'add-layers': Flags.integer({description: 'Add exactly this many layers.', min: 1, exactlyOne: TARGETS}),
  growth: Flags.string({description: 'Grow the parameter count by this much, e.g. 16% or 0.16.', exactlyOne: TARGETS}),
  'target-params': Flags.string({description: 'Target parameter count, e.g. 3.25B (rounded to a whole number of layers).', exactlyOne: TARGETS}),
}

export function targetFromFlags(flags: {'add-layers'?: number; 'target-params'?: string; growth?: string}): TargetSize {
  if (flags['add-layers'] !== undefined) {
    return {addLayers: flags['add-layers']}
  }
  if (flags['target-params'] !== undefined) {
    return {targetParams: parseParameterCount(flags['target-params'])}
  }
  if (flags.growth !== undefined) {
    return {growth: parseGrowth(flags.growth)}
  }
  throw new UsageError('one of --add-layers, --target-params or --growth is required')
}
