import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import {parseByteSize} from '../util/parse-byte-size.js'
import type {ModelLookup} from '../model/resolve-model.js'
import type {DecoderOptions} from '../onnx/devices.js'
import {parseBlockSizes, parseCandidateSpec} from '../curve/candidate-blocks.js'
import type {MeasureCurveParams} from '../curve/measure-curve.js'
import {parseStrategies, type StrategyName} from '../curve/strategies.js'
import {parseGrowth, parseParameterCount, type TargetSize} from '../curve/target-size.js'
import {dlecCacheDirFromEnv, hubTokenFromEnv, modelLookupFromEnv} from './hub-env.js'

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

/** How every command reaches the Hub (downloads and uploads): endpoint, stall timeout, token. */
export const hubAccessFlags = {
  'hub-url': Flags.string({description: 'Hub endpoint [default: $HF_ENDPOINT or https://huggingface.co].'}),
  timeout: Flags.integer({description: 'Seconds a Hub request (a download or an upload) may make no progress, no byte either way, before it fails [env: DLEC_HUB_TIMEOUT].', default: 30, min: 1, env: 'DLEC_HUB_TIMEOUT'}),
  token: Flags.string({description: 'Hub token, for gated and private repos [default: $HF_TOKEN, else the token file of `hf auth login`].'}),
}

/** Every command that takes a model: the Hub flags and --revision. */
export const modelFlags = {
  ...hubAccessFlags,
  revision: Flags.string({description: 'Branch, tag or commit of a Hub model id (or write org/name@rev) [default: main].'}),
}

export interface HubAccessFlagValues {
  'hub-url'?: string
  timeout: number
  token?: string
}

/** Where models are looked up: the HF cache and offline mode of the environment, the Hub endpoint, token and timeout of the flags. */
export function modelLookupOf(flags: HubAccessFlagValues): ModelLookup {
  const env = modelLookupFromEnv(process.env)
  const token = hubTokenFromEnv(flags.token, process.env)
  const hubUrl = flags['hub-url'] ?? env.hubUrl
  return {
    hubCache: env.hubCache,
    offline: env.offline,
    timeoutMs: flags.timeout * 1000,
    ...(hubUrl === undefined ? {} : {hubUrl}),
    ...(token === undefined ? {} : {accessToken: token}),
  }
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
