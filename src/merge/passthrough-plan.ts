import type {ArchitectureDefinition, WeightTemplate} from '../architectures/schema.js'
import {substituteTemplate} from '../architectures/template.js'
import {MergeError} from '../errors.js'
import {layerMap, slicesOf} from '../mergekit/layer-map.js'
import type {MergeConfig} from '../mergekit/merge-config.js'
import {resolveParameter} from '../mergekit/resolve-parameter.js'
import {dtypeBytes, dtypeFromTorchName, type SafetensorsDtype} from '../safetensors/dtype.js'
import {refuseUnsupported} from './refuse-unsupported.js'

/** What the planner needs of a source checkpoint (a ShardedTensorIndex satisfies it). */
export interface TensorSource {
  has(name: string): boolean
  info(name: string): {dtype: SafetensorsDtype; shape: number[]; byteLength: number}
}

export interface SourceModel {
  index: TensorSource
  /** The model's own layer count (for `${num_layers}` in its input names). */
  numLayers: number
}

/** One output tensor: which bytes to read, how to convert them, where they go. */
export interface CopyOp {
  /** The model reference as written in the YAML. */
  model: string
  /** Tensor name read from the source checkpoint (after aliases / tied names). */
  source: string
  /** Tensor name in the output. */
  output: string
  shape: number[]
  sourceDtype: SafetensorsDtype
  /** dtype after mergekit's `dtype` (applied on load; `scale` is computed in it). */
  loadDtype: SafetensorsDtype
  /** dtype written (after `out_dtype`). */
  outputDtype: SafetensorsDtype
  /** mergekit's resolved `scale`, when any level sets it. */
  scale?: number
  sourceBytes: number
  outputBytes: number
  /** Output layer and the source layer it comes from (absent for embeddings / final norm / head). */
  outputLayer?: number
  sourceLayer?: number
  /** 0-based output shard. */
  shard: number
}

export interface PassthroughPlan {
  /** In mergekit's write order (which fixes shard membership and the index's weight_map order). */
  ops: CopyOp[]
  shardCount: number
  /** Output file names, per shard, as mergekit names them. */
  shardFiles: string[]
  numLayers: number
  totalBytes: number
}

/**
 * The copy operations mergekit's passthrough would perform, without touching disk (mergekit
 * `plan.py`): pre weights from the first slice's model, each output layer's template tensors read
 * from its source layer, post weights from the last slice's model; optional tensors skipped when
 * the source has neither the name nor an alias; tied names used when the name is absent. Then
 * sorted into mergekit's write order (source tensor name, then planning order) and cut greedily
 * into shards of at most `outShardSize` bytes.
 */
export function planPassthrough(params: {
  config: MergeConfig
  models: Map<string, SourceModel>
  arch: ArchitectureDefinition
  outShardSize: number
}): PassthroughPlan {
  const {config, models, arch} = params
  refuseUnsupported(config)
  const slices = slicesOf(config)
  const map = layerMap(config)
  const loadDtype = readDtype(config.dtype, 'dtype')
  const outDtype = readDtype(config.out_dtype, 'out_dtype')
  const firstModel = slices[0]?.sources[0]?.model
  const lastModel = slices.at(-1)?.sources[0]?.model
  if (firstModel === undefined || lastModel === undefined) {
    throw new MergeError('the config has no slices with sources: nothing to merge')
  }
  const planned: Omit<CopyOp, 'shard'>[] = []
  const add = (w: WeightTemplate, model: string, vars: {out: number; src?: number; slice: number; t: number}): void => {
    const source = models.get(model)
    if (source === undefined) {
      throw new MergeError(`model ${model} was not opened`)
    }
    const inName = substituteTemplate(w.name, {layerIndex: vars.src, numLayers: vars.src === undefined ? map.length : source.numLayers})
    const outName = substituteTemplate(w.name, {layerIndex: vars.src === undefined ? undefined : vars.out, numLayers: map.length})
    const candidates = [inName, ...(w.aliases ?? []).map((a) => substituteTemplate(a, {layerIndex: vars.src, numLayers: source.numLayers}))]
    const found = [...candidates, ...(w.tiedNames ?? [])].find((n) => source.index.has(n))
    if (found === undefined || (w.optional && !candidates.some((n) => source.index.has(n)))) {
      if (w.optional) {
        return
      }
      const layer = vars.src === undefined ? '' : ` (output layer ${vars.out} <- source layer ${vars.src})`
      throw new MergeError(`model ${model} has no tensor ${inName}${layer}`)
    }
    const info = source.index.info(found)
    const scale = resolveParameter(config, 'scale', {slice: vars.slice, model, tensorName: inName, t: vars.t})
    const load = loadDtype ?? info.dtype
    const output = outDtype ?? load
    const elements = info.shape.reduce((a, b) => a * b, 1)
    planned.push({
      model,
      source: found,
      output: outName,
      shape: info.shape,
      sourceDtype: info.dtype,
      loadDtype: load,
      outputDtype: output,
      ...(scale === undefined ? {} : {scale}),
      sourceBytes: info.byteLength,
      outputBytes: elements * dtypeBytes(output),
      ...(vars.src === undefined ? {} : {outputLayer: vars.out, sourceLayer: vars.src}),
    })
  }
  for (const w of arch.preWeights) {
    add(w, firstModel, {out: 0, slice: 0, t: 0})
  }
  for (const entry of map) {
    for (const w of arch.layerWeights) {
      add(w, entry.model, {out: entry.output, src: entry.source, slice: entry.slice, t: entry.t})
    }
  }
  for (const w of arch.postWeights) {
    add(w, lastModel, {out: 0, slice: slices.length - 1, t: 0})
  }
  return cutShards(writeOrder(planned), params.outShardSize, map.length)
}

/** mergekit's scheduler runs saves grouped by source tensor name (string order), then plan order. */
function writeOrder<T extends {source: string}>(planned: T[]): T[] {
  return planned
    .map((op, i) => ({op, i}))
    .sort((a, b) => (a.op.source < b.op.source ? -1 : a.op.source > b.op.source ? 1 : a.i - b.i))
    .map(({op}) => op)
}

function cutShards(ordered: Omit<CopyOp, 'shard'>[], maxBytes: number, numLayers: number): PassthroughPlan {
  const ops: CopyOp[] = []
  let shard = 0
  let current = 0
  let count = 0
  for (const op of ordered) {
    if (count > 0 && maxBytes > 0 && current + op.outputBytes > maxBytes) {
      shard += 1
      current = 0
      count = 0
    }
    ops.push({...op, shard})
    current += op.outputBytes
    count += 1
  }
  const shardCount = ops.length === 0 ? 0 : shard + 1
  const pad = (n: number): string => String(n).padStart(5, '0')
  const shardFiles =
    shardCount === 1
      ? ['model.safetensors']
      : Array.from({length: shardCount}, (_, i) => `model-${pad(i + 1)}-of-${pad(shardCount)}.safetensors`)
  return {ops, shardCount, shardFiles, numLayers, totalBytes: ops.reduce((sum, op) => sum + op.outputBytes, 0)}
}

function readDtype(name: string | undefined, field: string): SafetensorsDtype | undefined {
  if (name === undefined) {
    return undefined
  }
  const dtype = dtypeFromTorchName(name)
  if (dtype === undefined || dtype === 'I64') {
    throw new MergeError(`${field}: ${name} is not supported by the native engine (bfloat16, float16, float32, float64); use --engine mergekit`)
  }
  return dtype
}
