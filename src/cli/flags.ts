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

/** How candidates are measured and searched: shared by `curve`, `plan` and `expand`. */
export const measureFlags = {
  'batch-size': Flags.integer({description: 'Rows per forward pass.', default: 4, min: 1}),
  beam: Flags.integer({description: 'Beam width of the beam strategy.', default: 4, min: 1}),
  'block-sizes': Flags.string({description: 'Sizes of the contiguous blocks [i, j) greedy and beam may duplicate, e.g. 1,2,4.', default: '1'}),
  'cache-dir': cacheDirFlag,
  'cache-memory': cacheMemoryFlag,
  candidates: Flags.string({description: 'Layers that may be duplicated: middle (skip the first 15% and last 20%), all, or i-j (inclusive).', default: 'middle'}),
  'max-tokens': Flags.integer({description: 'Evaluate at most this many tokens.', min: 2}),
  objective: Flags.option({description: 'What greedy and beam minimise.', options: ['kl', 'loss'] as const, default: 'kl'})(),
  'text-field': Flags.string({description: 'JSONL field holding the text.', default: 'text'}),
  threads: Flags.integer({description: 'ONNX Runtime intra-op threads [default: one per core].', min: 1}),
  window: Flags.integer({description: 'Tokens per row; longer texts are chunked [default: model positions, at most 1024].', min: 2}),
}

/** How a merge runs: shared by `merge` and `expand`. */
export const mergeEngineFlags = {
  engine: Flags.option({options: ['auto', 'mergekit', 'native'] as const, default: 'auto', description: 'Merge engine (auto: mergekit-yaml when found, else native).'})(),
  force: Flags.boolean({description: 'Replace OUT if it exists.'}),
  mergekit: Flags.file({description: 'Path of mergekit-yaml (default: found on PATH).'}),
  'out-shard-size': Flags.string({default: '5B', description: 'Largest output shard in bytes, K/M/B suffixes as mergekit (5B = 5e9).'}),
}
