import {join, resolve} from 'node:path'
import {matchCheckpoint, type CheckpointMatch} from '../architectures/match-checkpoint.js'
import {numLayersOf, resolveArchitecture, type ModelConfigJson} from '../architectures/registry.js'
import type {ArchitectureDefinition} from '../architectures/schema.js'
import {ModelError} from '../errors.js'
import {loadModelConfig} from './load-model-config.js'
import {parameterBreakdown, type ParameterBreakdown} from './parameter-count.js'
import type {TensorShape} from './read-tensor-shapes.js'
import {drain} from '../drain.js'
import type {DownloadEvent} from './download-model.js'
import {resolveModelIter, type ModelLookup, type ResolvedModel} from './resolve-model.js'
import {readWeightFiles, type WeightFiles} from './weight-files.js'

/**
 * A model as every step uses it, read once: where it is, config.json, its architecture and depth,
 * the tensor index of its safetensors files (names, dtypes, shapes, byte locations) and the
 * parameter breakdown. `loadModel` reads config.json once and each safetensors header once;
 * everything downstream (eval, profile, curve, plan, expand, merge) takes this value instead of a
 * folder path.
 */
export interface LoadedModel {
  /** Where the model was found: the folder, and for a Hub model its id and commit. */
  location: ResolvedModel
  /**
   * One name for the model whatever spelling found it: `hub:org/name@commit` for a Hub snapshot,
   * else the folder's absolute path (`a/../a/b` and `./a/b/` are one model; a symlink's own path is
   * kept, as a user named it). The DuckDB store keys runs, candidates and plans by it.
   */
  identity: string
  /** How a plan names the model in mergekit YAML: the Hub id (`org/name@rev` when a revision other than main was asked for), or the folder's absolute path. */
  reference: string
  configPath: string
  config: ModelConfigJson
  arch: ArchitectureDefinition
  numLayers: number
  /** The tensor index: every stored tensor's file, offset, dtype and shape, plus a file fingerprint. */
  weights: WeightFiles
  /** Tensor name -> dtype and shape (a view of `weights`). */
  shapes: Map<string, TensorShape>
  /** The architecture's tensors matched against the checkpoint (nothing required is missing). */
  match: CheckpointMatch
  breakdown: ParameterBreakdown
}

/** A model to load: a folder or Hub id (resolved with `lookup`), or a location resolved already. */
export type ModelSource = string | ResolvedModel

/**
 * Resolves (folder, HF cache or download) and reads a model once. Throws ModelError naming the file
 * when config.json, the architecture or a required tensor is wrong.
 */
export async function loadModel(params: LoadModelParams): Promise<LoadedModel> {
  return drain(loadModelIter(params))
}

export interface LoadModelParams {
  model: ModelSource
  /** Branch, tag or commit of a Hub id (default main). */
  revision?: string
  lookup?: ModelLookup
}

/** loadModel as a generator: yields the download's progress events when the model comes from the Hub. */
export async function* loadModelIter(params: LoadModelParams): AsyncGenerator<DownloadEvent, LoadedModel> {
  const location =
    typeof params.model === 'string'
      ? yield* resolveModelIter({...params.lookup, cacheDir: params.lookup?.hubCache, model: params.model, revision: params.revision})
      : params.model
  const configPath = join(location.dir, 'config.json')
  const config = await loadModelConfig(location.dir)
  const arch = resolveArchitecture(config, configPath)
  const numLayers = numLayersOf(config, arch, configPath)
  const weights = await readWeightFiles(location.dir)
  const shapes = new Map([...weights.tensors].map(([name, t]) => [name, {dtype: t.dtype, shape: t.shape}]))
  const match = matchCheckpoint({arch, numLayers, names: shapes.keys()})
  if (match.missing.length > 0) {
    throw new ModelError(
      `${location.dir}: tensor ${match.missing[0]} required by the ${arch.name} architecture is not in the checkpoint${match.missing.length > 1 ? ` (and ${match.missing.length - 1} more)` : ''}`,
      'DLEC_WEIGHT_MISSING',
    )
  }
  const breakdown = parameterBreakdown({arch, config, shapes, source: location.dir})
  const hub = location.revision !== undefined
  const absolute = resolve(location.dir)
  return {
    location,
    identity: hub ? `hub:${location.id}@${location.revision}` : absolute,
    // A revision asked for is kept in the YAML a plan writes (mergekit's `org/name@rev`), so the merge reads the measured weights.
    reference: hub ? (params.revision === undefined || params.revision === 'main' ? location.id : `${location.id}@${params.revision}`) : absolute,
    configPath,
    config,
    arch,
    numLayers,
    weights,
    shapes,
    match,
    breakdown,
  }
}

/** What a library call takes as its model: loaded already (`model`), or a folder to load (`modelDir`). */
export interface ModelInput {
  /** The model, loaded once by the caller. */
  model?: LoadedModel
  /** A local model folder, loaded by the call when `model` is absent. */
  modelDir?: string
}

/** The LoadedModel of a ModelInput (loading `modelDir` when no model is given). */
export async function modelOf(input: ModelInput): Promise<LoadedModel> {
  if (input.model !== undefined) {
    return input.model
  }
  if (input.modelDir === undefined) {
    throw new ModelError('no model given (a loaded model or a model folder)', 'DLEC_MODEL_NOT_FOUND')
  }
  return loadModel({model: input.modelDir})
}
