import {UsageError} from '../errors.js'
import type {Duplication} from './layer-plan.js'

/**
 * LLaMA-Pro block expansion: split the N layers into k equal groups and insert a copy of each
 * group's last layer after it (32 -> 40 copies layers 3, 7, …, 31), with the copy's output
 * projections scaled by 0 so it starts as an exact identity (KL 0 by construction). Meant for models
 * that will be fine-tuned afterwards. With k > N every layer is copied and the pattern repeats. Pure.
 */
export function identityPlacement(params: {numLayers: number; k: number}): Duplication[] {
  const {numLayers, k} = params
  if (!Number.isInteger(k) || k < 1) {
    throw new UsageError(`identity: the number of added layers must be a positive whole number (got ${k})`)
  }
  const out: Duplication[] = []
  for (let m = 0; m < k; m++) {
    const round = Math.floor(m / numLayers)
    const inRound = Math.min(numLayers, k - round * numLayers)
    const pos = m - round * numLayers
    const layer = Math.floor(((pos + 1) * numLayers) / inRound) - 1
    out.push({start: layer, end: layer + 1})
  }
  return out
}
