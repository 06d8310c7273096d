import {UsageError} from '../errors.js'
import type {Duplication} from './layer-plan.js'
import {spreadEvenly} from './spread.js'

/**
 * The original DLEC selection and grouping, with its range bugs fixed, for comparison.
 *
 * The original rule flags "beneficial" hidden states labelled layer_0 … layer_L (layer_0 = the
 * embeddings, layer_k = the output of decoder block k-1); its config writer grouped the flagged
 * labels in chunks of 4 and wrote `layer_range: [chunk[0], chunk[-1]]`, which mergekit reads as
 * half-open (dropping each chunk's last layer) and with the label offset uncorrected. Here labels
 * become decoder layers (k -> k-1; the embeddings are not a layer), each chunk of 4 becomes the
 * half-open slice [first, last+1), and consecutive chunk slices overlap by one layer, so each
 * chunk's last layer runs twice: the published phi-2-DLEC pattern (7, 11, …, 27). For k added layers
 * the k seams are taken spread evenly over the chunks (round again when k exceeds them). Pure.
 */
export function dlecOriginalSeams(flaggedLabels: readonly number[], numLayers: number): number[] {
  const layers = [...new Set(flaggedLabels.filter((k) => k >= 1 && k <= numLayers).map((k) => k - 1))].sort((a, b) => a - b)
  const seams: number[] = []
  for (let i = 0; i < layers.length; i += 4) {
    const chunk = layers.slice(i, i + 4)
    seams.push(chunk[chunk.length - 1] as number)
  }
  return seams
}

export function dlecOriginalPlacement(params: {flaggedLabels: readonly number[]; numLayers: number; k: number}): Duplication[] {
  const seams = dlecOriginalSeams(params.flaggedLabels, params.numLayers)
  if (seams.length === 0) {
    throw new UsageError('dlec-original: the original rule flagged no decoder layer as beneficial')
  }
  if (!Number.isInteger(params.k) || params.k < 1) {
    throw new UsageError(`dlec-original: the number of added layers must be a positive whole number (got ${params.k})`)
  }
  return spreadEvenly(seams, params.k)
    .sort((a, b) => a - b)
    .map((l) => ({start: l, end: l + 1}))
}
