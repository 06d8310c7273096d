import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import {parseByteSize} from '../util/parse-byte-size.js'
import {loadModel, type LoadedModel} from '../model/loaded-model.js'
import {resolveModel, type ResolvedModel} from '../model/resolve-model.js'
import type {DecoderOptions} from '../onnx/devices.js'
import {parseBlockSizes, parseCandidateSpec} from '../curve/candidate-blocks.js'
import type {MeasureCurveParams} from '../curve/measure-curve.js'
import {parseStrategies, type StrategyName} from '../curve/strategies.js'
import {parseGrowth, parseParameterCount, type TargetSize} from '../curve/target-size.js'
import {dlecCacheDirFromEnv, modelLookupFromEnv} from './hub-env.js'

/** Flag factories and flag-to-value helpers shared by the commands (the only place they read the environment). */

/** Memory budget of the expansion curve's cached hidden states (curve, plan, expand). */
export const cacheMemoryFlag = Flags.string({
  description: 'Memory for the cached hidden states that let candidates skip their shared prefix (a size: 2G = 2e9 bytes, 512Mi = 512 MiB): less means more recomputed layers, the same numbers.',
  default: '2G',
})

/** --cache-memory in bytes (0 keeps no cached hidden state but h_0). */
export function cacheMemoryOf(flags: {'cache-memory': string}): number {
  return parseByteSize(flags['cache-memory'], '--cache-memory', {allowZero: true})
}

/** --out-shard-size in bytes. */
export function outShardSizeOf(flags: {'out-shard-size': string}): number {
  return parseByteSize(flags['out-shard-size'], '--out-shard-size')
}

export const cacheDirFlag = Flags.directory({description: 'Cache for converted weights and graphs [default: $DLEC_CACHE_DIR or ~/.cache/dlec].'})

/** --cache-dir, else $DLEC_CACHE_DIR, else the XDG cache. */
export function cacheDirOf(flag: string | undefined): string {
  return flag ?? dlecCacheDirFromEnv(process.env)
}

/** A model argument (folder or Hub id) resolved with the HF cache settings of the environment. */
export function resolveModelArg(model: string): Promise<ResolvedModel> {
  return resolveModel({model, ...modelLookupFromEnv(process.env)})
}

/** A model argument (folder or Hub id) resolved and read once, with the HF settings of the environment. */
export function loadModelArg(model: string): Promise<LoadedModel> {
  return loadModel({model, lookup: modelLookupFromEnv(process.env)})
}

/** --quant of eval, profile, curve, plan and expand: the weight format of the measurement. */
export const quantFlag = Flags.option({
  description:
    'Weight format of the measurement: auto (fp32 up to 2 GB of float32 weights, else w8a8 on CPUs with int8 dot products (VNNI / AMX), else int4), fp32, int8 / int4 (block-quantized, MatMulNBits) or w8a8 (int8 per-channel weights, activations quantized at run time: DynamicQuantizeMatMul). Built once into the cache; the output says which format ran and why. YAML plans always name the original weights.',
  options: ['auto', 'fp32', 'int8', 'int4', 'w8a8'] as const,
  default: 'auto',
})()

/** How decoders run (eval, profile, curve, plan, expand): one flag group, one DecoderOptions. */
export const decoderFlags = {
  'cache-dir': cacheDirFlag,
  device: Flags.option({
    description: 'Where ONNX Runtime runs: cpu, cuda (onnxruntime-node CUDA provider and an NVIDIA GPU), or auto (CUDA when usable, else the CPU; says which).',
    options: ['cpu', 'cuda', 'auto'] as const,
    default: 'cpu',
  })(),
  quant: quantFlag,
  threads: Flags.integer({description: 'ONNX Runtime intra-op threads [default: one per core].', min: 1}),
}

export function decoderOptionsOf(flags: {'cache-dir'?: string; device: DecoderOptions['device']; quant: DecoderOptions['quant']; threads?: number}): DecoderOptions {
  return {cacheDir: cacheDirOf(flags['cache-dir']), device: flags.device, quant: flags.quant, threads: flags.threads}
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
  ...decoderFlags,
  'cache-memory': cacheMemoryFlag,
  candidates: Flags.string({description: 'Layers that may be duplicated: middle (skip the first 15% and last 20%), all, or i-j (inclusive).', default: 'middle'}),
  'max-tokens': Flags.integer({description: 'Evaluate at most this many tokens.', min: 2}),
  'no-racing': Flags.boolean({description: 'Measure every candidate of greedy and beam on all rows (the full sweep) instead of racing them (dropping those clearly worse on a first slice of the rows).'}),
  objective: Flags.option({description: 'What greedy and beam minimise.', options: ['kl', 'loss'] as const, default: 'kl'})(),
  'text-field': Flags.string({description: 'JSONL field holding the text.', default: 'text'}),
  window: Flags.integer({description: 'Tokens per row; longer texts are chunked [default: model positions, at most 1024].', min: 2}),
}

/** How a merge runs: shared by `merge` and `expand`. */
export const mergeEngineFlags = {
  engine: Flags.option({options: ['auto', 'mergekit', 'native'] as const, default: 'auto', description: 'Merge engine (auto: mergekit-yaml when found, else native).'})(),
  force: Flags.boolean({description: 'Replace OUT if it exists.'}),
  mergekit: Flags.file({description: 'Path of mergekit-yaml (default: found on PATH).'}),
  'out-shard-size': Flags.string({default: '5B', description: 'Largest output shard (a size: 5B = 5G = 5e9 bytes as mergekit reads it, 500M = 5e8, 4Gi = 4 GiB).'}),
}

/** The values of `measureFlags` (and the decoder flags in it). */
export interface MeasureFlagValues {
  'batch-size': number
  beam: number
  'block-sizes': string
  'cache-dir'?: string
  'cache-memory': string
  candidates: string
  device: DecoderOptions['device']
  'max-tokens'?: number
  'no-racing'?: boolean
  objective: 'kl' | 'loss'
  quant: DecoderOptions['quant']
  threads?: number
  window?: number
}

/** How candidates are measured, from `measureFlags`: the shared part of curve, plan and expand params. */
export function measureOptionsOf(flags: MeasureFlagValues): Omit<MeasureCurveParams, 'texts' | 'strategies' | 'maxAdd'> {
  return {
    ...decoderOptionsOf(flags),
    candidates: parseCandidateSpec(flags.candidates),
    blockSizes: parseBlockSizes(flags['block-sizes']),
    beamWidth: flags.beam,
    objective: flags.objective,
    maxTokens: flags['max-tokens'],
    batchSize: flags['batch-size'],
    windowSize: flags.window,
    cacheBytes: cacheMemoryOf(flags),
    racing: flags['no-racing'] !== true,
  }
}

/** --strategy of a command that takes exactly one (plan, expand). */
export function singleStrategy(flag: string, what: string): StrategyName {
  const strategies = parseStrategies(flag)
  if (strategies.length !== 1) {
    throw new UsageError(`--strategy takes one strategy for ${what} (dlec curve compares several)`)
  }
  return strategies[0] as StrategyName
}
