import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import {parseByteSize} from '../util/parse-byte-size.js'
import type {ModelLookup} from '../model/resolve-model.js'
import type {DecoderOptions} from '../onnx/devices.js'
import {parseBlockSizes, parseCandidateSpec} from '../curve/candidate-blocks.js'
import type {MeasureCurveParams} from '../curve/measure-curve.js'
import {parseStrategies, type StrategyName} from '../curve/strategies.js'
import {parseAlphas} from '../curve/soft-strategy.js'
import {parseGrowth, parseParameterCount, type TargetSize} from '../curve/target-size.js'
import {dlecCacheDirFromEnv, hubTokenFromEnv, modelLookupFromEnv} from './hub-env.js'
import {loadTexts} from '../data/load-texts.js'
import {splitTexts} from '../data/split-texts.js'
import {readProbeItems, type ProbeItem} from '../eval/probe.js'

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
  alphas: Flags.string({description: 'The α grid the soft strategy measures: its copies\' output projections scaled by each α (0 = identity copy, 1 = plain copy), the best kept; comma-separated numbers from 0 to 1.', default: '0,0.25,0.5,0.75,1'}),
  'batch-size': Flags.integer({description: 'Rows per forward pass.', default: 4, min: 1}),
  beam: Flags.integer({description: 'Beam width of the beam strategy.', default: 4, min: 1}),
  'block-sizes': Flags.string({description: 'Sizes of the contiguous blocks [i, j) greedy and beam may duplicate, e.g. 1,2,4.', default: '1'}),
  ...decoderFlags,
  'cache-memory': cacheMemoryFlag,
  candidates: Flags.string({description: 'Layers that may be duplicated: middle (skip the first 15% and last 20%), all, or i-j (inclusive).', default: 'middle'}),
  holdout: Flags.file({description: 'Held-out text (the formats of --data): choose on --data, then re-measure the chosen plan (and every curve point) on this, with 95% bootstrap intervals.', exclusive: ['holdout-split']}),
  'holdout-split': Flags.string({description: 'Hold out this fraction of the --data texts (a seeded split by text, see --seed): choose on the rest, re-measure on it.', exclusive: ['holdout']}),
  'max-kl': Flags.string({description: 'Guard-rail: greedy and beam never keep a candidate whose mean KL exceeds this; with --probe, candidates whose probe score beats the original while over it are flagged.'}),
  'max-tokens': Flags.integer({description: 'Evaluate at most this many tokens (of the selection part, and of the held-out part).', min: 2}),
  'no-racing': Flags.boolean({description: 'Measure every candidate of greedy and beam on all rows (the full sweep) instead of racing them (dropping those clearly worse on a first slice of the rows).'}),
  objective: Flags.option({description: 'What greedy and beam optimise: kl or loss (lowest), probe (highest accuracy on --probe, ties to the lower KL).', options: ['kl', 'loss', 'probe'] as const, default: 'kl'})(),
  probe: Flags.file({description: 'Multiple-choice JSONL ({"question", "choices", "answer"}): every candidate\'s log-likelihood accuracy (as `dlec eval --probe`), with a 95% Wilson interval.'}),
  seed: Flags.integer({description: 'Seed of the --holdout-split shuffle and of the bootstrap resamples of the held-out intervals.', default: 0, min: 0}),
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
  alphas: string
  'batch-size': number
  beam: number
  'block-sizes': string
  'cache-dir'?: string
  'cache-memory': string
  candidates: string
  device: DecoderOptions['device']
  'max-kl'?: string
  'max-tokens'?: number
  objective: 'kl' | 'loss' | 'probe'
  seed: number
  'no-racing'?: boolean
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
    maxKl: maxKlOf(flags['max-kl']),
    seed: flags.seed,
    maxTokens: flags['max-tokens'],
    batchSize: flags['batch-size'],
    windowSize: flags.window,
    cacheBytes: cacheMemoryOf(flags),
    alphas: parseAlphas(flags.alphas),
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

/** --max-kl as a number. */
function maxKlOf(flag: string | undefined): number | undefined {
  if (flag === undefined) {
    return undefined
  }
  const x = Number(flag)
  if (flag.trim() === '' || !Number.isFinite(x) || x < 0) {
    throw new UsageError(`--max-kl ${flag}: expected a non-negative number (mean KL in nats per token)`)
  }
  return x
}

/**
 * The texts to choose on, the held-out part (--holdout FILE, or --holdout-split of --data) and the
 * probe items (--probe; required by --objective probe), read once for curve, plan and expand.
 */
export async function evaluationInputsOf(flags: {
  data?: string
  holdout?: string
  'holdout-split'?: string
  seed: number
  probe?: string
  objective: string
  'text-field': string
}): Promise<{texts?: string[]; holdout?: {texts: string[]; source: string}; probe?: ProbeItem[]}> {
  if (flags.objective === 'probe' && flags.probe === undefined) {
    throw new UsageError('--objective probe needs --probe FILE (multiple-choice items, JSONL)')
  }
  if (flags['holdout-split'] !== undefined && flags.data === undefined) {
    throw new UsageError('--holdout-split splits the --data texts: give --data')
  }
  const probe = flags.probe === undefined ? undefined : await readProbeItems(flags.probe)
  const all = flags.data === undefined ? undefined : await loadTexts({path: flags.data, textField: flags['text-field']})
  if (flags.holdout !== undefined) {
    return {texts: all, holdout: {texts: await loadTexts({path: flags.holdout, textField: flags['text-field']}), source: `--holdout ${flags.holdout}`}, probe}
  }
  const split = flags['holdout-split']
  if (split !== undefined && all !== undefined) {
    const fraction = Number(split)
    const parts = splitTexts(all, split.trim() === '' ? Number.NaN : fraction, flags.seed)
    return {texts: parts.selection, holdout: {texts: parts.holdout, source: `--holdout-split ${split} of ${flags.data} (seed ${flags.seed})`}, probe}
  }
  return {texts: all, probe}
}
