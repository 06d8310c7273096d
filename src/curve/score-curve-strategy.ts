import {UsageError} from '../errors.js'
import type {Duplication} from './layer-plan.js'

/**
 * The `curve` strategy: k single-layer duplicates distributed along the allowed band of depth in
 * proportion to a per-layer weight (the score curve): layer l receives about k·w_l/Σw copies
 * (largest-remainder apportionment, ties to the shallower layer), at most ceil(k / band size) each,
 * so copies spread out instead of piling onto one layer. Pure.
 */
export function scoreCurvePlacement(params: {weights: readonly number[]; k: number; band: Duplication}): Duplication[] {
  const {weights, k, band} = params
  if (!Number.isInteger(k) || k < 1) {
    throw new UsageError(`curve: the number of added layers must be a positive whole number (got ${k})`)
  }
  const layers: number[] = []
  for (let l = band.start; l < band.end; l++) {
    layers.push(l)
  }
  const w = layers.map((l) => {
    const v = weights[l]
    if (v === undefined || !Number.isFinite(v) || v < 0) {
      throw new UsageError(`curve: layer ${l} has no usable score weight (${v})`)
    }
    return v
  })
  const total = w.reduce((a, b) => a + b, 0)
  const share = total > 0 ? w.map((v) => (k * v) / total) : w.map(() => k / layers.length)
  const cap = Math.ceil(k / layers.length)
  const copies = share.map((s) => Math.min(cap, Math.floor(s)))
  let left = k - copies.reduce((a, b) => a + b, 0)
  while (left > 0) {
    let best = -1
    for (let i = 0; i < layers.length; i++) {
      if ((copies[i] as number) >= cap) {
        continue
      }
      const rem = (share[i] as number) - (copies[i] as number)
      if (best < 0 || rem > (share[best] as number) - (copies[best] as number)) {
        best = i
      }
    }
    copies[best] = (copies[best] as number) + 1
    left--
  }
  const out: Duplication[] = []
  for (const [i, layer] of layers.entries()) {
    for (let c = 0; c < (copies[i] as number); c++) {
      out.push({start: layer, end: layer + 1})
    }
  }
  return out
}

/**
 * Weights from Block Influence (1 - cos between a layer's input and output): a layer that changes
 * the residual stream little has a small seam cost when it runs twice, so it gets proportionally
 * more copies (w = 1 / BI, BI floored at 1e-6).
 */
export function weightsFromBlockInfluence(blockInfluence: readonly number[]): number[] {
  return blockInfluence.map((bi) => 1 / Math.max(bi, 1e-6))
}
