import {existsSync, statSync} from 'node:fs'
import {mkdtemp, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {drain} from '../drain.js'
import {MergekitError} from '../errors.js'
import {layerMap, slicesOf} from '../mergekit/layer-map.js'
import {parseModelReference} from '../mergekit/model-reference.js'
import {checkSideFiles} from './check-side-files.js'
import {tokenizerFilesToCopy} from './tokenizer-files.js'
import type {MergeConfig} from '../mergekit/merge-config.js'
import {readMergeConfig} from '../mergekit/read-merge-config.js'
import {findMergekit, runMergekit} from './engines/run-mergekit.js'
import {executeMerge} from './engines/execute-native.js'
import type {MergeEvent} from './merge-event.js'
import {offlineSnapshots, restoreModelReferences} from './offline-snapshots.js'
import {prepareNativeMerge} from './prepare-native-merge.js'
import {mapModelReferences} from '../mergekit/map-model-references.js'
import {toYaml} from '../mergekit/to-yaml.js'
import type {ModelLookup} from '../model/resolve-model.js'

export type MergeEngine = 'auto' | 'mergekit' | 'native'

/** A mergekit config parsed already: the validated config and the YAML text it came from. */
export interface ParsedMergeYaml {
  config: MergeConfig
  /** The YAML, written verbatim as mergekit_config.yml (and given to mergekit-yaml). */
  text: string
  warnings?: string[]
  /** What to call it in messages (default `the plan`). */
  source?: string
}

/** One row of the copy plan, as `--dry-run` shows it. */
export interface PlanRow {
  output: string
  model: string
  source: string
  dtype: string
  scale?: number
  shard: string
  bytes: number
}

export interface MergeReport {
  engine: 'native' | 'mergekit'
  /** Why that engine (auto picks mergekit when installed). */
  engineReason: string
  out: string
  dryRun: boolean
  layers: number
  tensors: number
  bytes: number
  files: string[]
  plan?: PlanRow[]
  warnings: string[]
  seconds: number
}

export interface MergeModelParams {
  /** The mergekit YAML: a file, or a config parsed already (with its YAML text). */
  config: string | ParsedMergeYaml
  out: string
  engine?: MergeEngine
  dryRun?: boolean
  outShardSize: number
  force?: boolean
  mergekitPath?: string
  /** PATH to look for mergekit-yaml on (the CLI passes process.env.PATH). */
  pathEnv?: string
  lookup?: ModelLookup
  signal?: AbortSignal
}

/**
 * `dlec merge`: reads and validates the YAML, picks the engine (auto: mergekit-yaml when found,
 * else native), and runs it, yielding progress events; returns the report. `dryRun` plans the
 * native copy (refusing what the native engine would refuse) and writes nothing.
 */
export async function* mergeModelIter(params: MergeModelParams): AsyncGenerator<MergeEvent, MergeReport> {
  const started = performance.now()
  const {config, text, warnings} = typeof params.config === 'string' ? await readMergeConfig(params.config) : {warnings: [], ...params.config}
  const source = typeof params.config === 'string' ? params.config : (params.config.source ?? 'the plan')
  const layers = layerMap(config).length
  const engine = params.engine ?? 'auto'
  const mergekit = engine === 'native' ? undefined : findMergekit({explicit: params.mergekitPath, pathEnv: params.pathEnv})
  if (engine === 'mergekit' && mergekit === undefined) {
    throw new MergekitError('mergekit-yaml not found on PATH; install mergekit (pip install mergekit), pass --mergekit PATH, or use --engine native', 'DLEC_MERGEKIT_MISSING')
  }
  const report = (partial: Partial<MergeReport> & Pick<MergeReport, 'engine' | 'engineReason'>): MergeReport => ({
    out: params.out,
    dryRun: params.dryRun ?? false,
    layers,
    tensors: 0,
    bytes: 0,
    files: [],
    warnings,
    seconds: (performance.now() - started) / 1000,
    ...partial,
  })
  if (mergekit !== undefined && !params.dryRun) {
    const reason = engine === 'auto' ? `auto: mergekit-yaml found at ${mergekit}` : 'requested'
    // Offline, mergekit is given the cached snapshot folders of Hub ids (it fails on the ids).
    const snapshots = await offlineSnapshots(config, params.lookup)
    const given = snapshots.size === 0 ? text : toYaml(mapModelReferences(config, (ref) => snapshots.get(ref) ?? ref))
    await checkDonorSideFiles(config, snapshots)
    // mergekit reads a file: a parsed or rewritten config is written to a private temp folder for it.
    const work = typeof params.config === 'string' && snapshots.size === 0 ? undefined : await mkdtemp(join(tmpdir(), 'dlec-merge-'))
    let written: {files: string[]; bytes: number; tensors: number}
    try {
      const file = work === undefined ? source : join(work, 'plan.yaml')
      if (work !== undefined) {
        await writeFile(file, given)
      }
      const beforeCommit = snapshots.size === 0 ? undefined : (dir: string): Promise<void> => restoreModelReferences(dir, snapshots, text)
      // runMergekit checks what mergekit wrote before moving it into place (a mergekit exiting 0
      // with unusable output leaves no OUT) and counts its tensors.
      written = yield* runMergekit({mergekit, config: file, out: params.out, outShardSize: params.outShardSize, force: params.force, signal: params.signal, beforeCommit})
    } finally {
      if (work !== undefined) {
        await rm(work, {recursive: true, force: true})
      }
    }
    return report({engine: 'mergekit', engineReason: reason, files: written.files, bytes: written.bytes, tensors: written.tensors})
  }
  const reason =
    engine === 'native' ? 'requested' : params.dryRun ? 'dry run: the native copy plan (what mergekit would write)' : 'auto: mergekit-yaml not found on PATH'
  const prep = await prepareNativeMerge({config, yaml: text, source, out: params.out, outShardSize: params.outShardSize, lookup: params.lookup})
  try {
    const {plan} = prep
    if (params.dryRun) {
      const rows = plan.ops.map((op) => ({
        output: op.output,
        model: op.model,
        source: op.source,
        dtype: op.sourceDtype === op.outputDtype ? op.outputDtype : `${op.sourceDtype}->${op.outputDtype}`,
        ...(op.scale === undefined ? {} : {scale: op.scale}),
        shard: plan.shardFiles[op.shard] ?? '',
        bytes: op.outputBytes,
      }))
      return report({engine: 'native', engineReason: reason, tensors: plan.ops.length, bytes: plan.totalBytes, plan: rows, files: [...plan.shardFiles, ...prep.files.map((f) => f.name)]})
    }
    const run = executeMerge({plan, sources: prep.sources, out: params.out, files: prep.files, force: params.force, signal: params.signal})
    const {files} = yield* run
    return report({engine: 'native', engineReason: reason, tensors: plan.ops.length, bytes: plan.totalBytes, files})
  } finally {
    await prep.close()
  }
}

/** mergeModelIter without progress events. */
export async function mergeModel(params: MergeModelParams): Promise<MergeReport> {
  return drain(mergeModelIter(params))
}

/**
 * mergekit copies the donor's tokenizer and generation files itself, through symlinks: for a local
 * donor folder (or, offline, a Hub donor's cached snapshot) the same check as the native engine's
 * runs first (online, a Hub donor is resolved and checked by mergekit's own download).
 */
async function checkDonorSideFiles(config: MergeConfig, snapshots: Map<string, string>): Promise<void> {
  const donor = config.base_model ?? slicesOf(config)[0]?.sources[0]?.model
  const cached = donor === undefined ? undefined : snapshots.get(donor)
  const path = parseModelReference(cached ?? donor ?? '')?.model.path
  if (path === undefined || path === '' || !existsSync(path) || !statSync(path).isDirectory()) {
    return
  }
  await checkSideFiles({dir: path, names: tokenizerFilesToCopy(new Set(await readdir(path))), hubSnapshot: cached !== undefined})
}
