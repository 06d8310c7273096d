import {describeLayers, type ConfigReport} from './describe-layers.js'

/**
 * Validates a mergekit YAML file (and, with `modelDir`, its layer ranges against the model's depth).
 * Returns what it found; throws a DlecError (one line, naming file and place) when it is not valid.
 */
export async function validateMergeConfigFile(params: {file: string; modelDir?: string}): Promise<ConfigReport> {
  const r = await describeLayers(params)
  return {file: r.file, mergeMethod: r.mergeMethod, slices: r.slices, outputLayers: r.outputLayers, models: r.models, warnings: r.warnings, model: r.model}
}
