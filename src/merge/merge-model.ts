import {performance} from 'node:perf_hooks'
import {MergekitError} from '../errors.js'
import {layerMap} from '../mergekit/layer-map.js'
import {readMergeConfig} from '../mergekit/read-merge-config.js'
import {findMergekit, runMergekit} from '../mergekit/run-mergekit.js'
import {executeMerge} from './execute.js'
import type {MergeEvent} from './merge-event.js'
import {ShardedTensorIndex} from '../safetensors/reader.js'
import {prepareNativeMerge, type ModelLookup} from './prepare-native-merge.js'

export type MergeEngine = 'auto' | 'mergekit' | 'native'

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

/**
 * `dlec merge`: reads and validates the YAML, picks the engine (auto: mergekit-yaml when found,
 * else native), and runs it, yielding progress events; returns the report. `dryRun` plans the
 * native copy (refusing what the native engine would refuse) and writes nothing.
 */
export async function* mergeModel(params: {
  config: string
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
}): AsyncGenerator<MergeEvent, MergeReport> {
  const started = performance.now()
  const {config, text, warnings} = await readMergeConfig(params.config)
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
    const run = runMergekit({mergekit, config: params.config, out: params.out, outShardSize: params.outShardSize, force: params.force, signal: params.signal})
    const files = yield* forwardEvents(run)
    const written = await ShardedTensorIndex.open(params.out)
    const bytes = written.names().reduce((sum, name) => sum + written.info(name).byteLength, 0)
    const tensors = written.names().length
    await written.close()
    return report({engine: 'mergekit', engineReason: reason, files, bytes, tensors})
  }
  const reason =
    engine === 'native' ? 'requested' : params.dryRun ? 'dry run: the native copy plan (what mergekit would write)' : 'auto: mergekit-yaml not found on PATH'
  const prep = await prepareNativeMerge({config, yaml: text, source: params.config, out: params.out, outShardSize: params.outShardSize, lookup: params.lookup})
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
    const files = yield* forwardEvents(run)
    return report({engine: 'native', engineReason: reason, tensors: plan.ops.length, bytes: plan.totalBytes, files})
  } finally {
    await prep.close()
  }
}

/** Re-yields an engine's events and returns the files its `done` event lists. */
async function* forwardEvents(run: AsyncGenerator<MergeEvent, unknown>): AsyncGenerator<MergeEvent, string[]> {
  let files: string[] = []
  for await (const event of run) {
    if (event.type === 'done') {
      files = event.files
    }
    yield event
  }
  return files
}
