import {join} from 'node:path'
import {ModelError} from '../errors.js'
import {loadModelConfig} from '../model/load-model-config.js'
import {numLayersOf, resolveArchitecture, type ModelConfigJson} from '../architectures/registry.js'
import {matchCheckpoint, type CheckpointMatch} from '../architectures/match-checkpoint.js'
import type {ArchitectureDefinition} from '../architectures/schema.js'
import {readTensorShapes, type TensorShape} from './read-tensor-shapes.js'

export interface ModelInspection {
  dir: string
  config: ModelConfigJson
  arch: ArchitectureDefinition
  numLayers: number
  shapes: Map<string, TensorShape>
  match: CheckpointMatch
}

/**
 * A local model folder as the merge sees it: config.json, its architecture, depth, and the
 * tensors its template plans (from the safetensors headers). Throws ModelError naming the file.
 */
export async function inspectModel(params: {dir: string}): Promise<ModelInspection> {
  const {dir} = params
  const configPath = join(dir, 'config.json')
  // The shared reader: a regular UTF-8 file holding a JSON object (null, a FIFO, a folder are ModelErrors).
  const config = await loadModelConfig(dir)
  const arch = resolveArchitecture(config, configPath)
  const numLayers = numLayersOf(config, arch, configPath)
  const shapes = await readTensorShapes({dir})
  const match = matchCheckpoint({arch, numLayers, names: shapes.keys()})
  if (match.missing.length > 0) {
    throw new ModelError(
      `${dir}: tensor ${match.missing[0]} required by the ${arch.name} architecture is not in the checkpoint${match.missing.length > 1 ? ` (and ${match.missing.length - 1} more)` : ''}`,
    )
  }
  return {dir, config, arch, numLayers, shapes, match}
}

/** Number of elements of a tensor shape. */
export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}
