import {UsageError} from '../errors.js'
import type {BranchScale} from '../onnx/decoder-graph.js'
import {objectiveOf, type Measurement, type Objective} from './expansion-search.js'

/**
 * Soft copies: a duplicated layer whose copy has its output projections (attention and MLP: the
 * family's identityFilters, weights and biases) multiplied by α, as mergekit's passthrough `scale`
 * does. α = 0 is the LLaMA-Pro identity copy (its residual contribution vanishes), α = 1 a plain
 * copy. The soft strategy places its copies as identity does and measures each placement at every α
 * of a small grid (--alphas), keeping the best by the objective. Pure.
 */

/** The α grid measured when --alphas is not given. */
export const DEFAULT_ALPHAS: readonly number[] = [0, 0.25, 0.5, 0.75, 1]

/** Parses `--alphas 0,0.5,1`: distinct numbers from 0 to 1, in the order given. */
export function parseAlphas(text: string, flag = '--alphas'): number[] {
  const parts = text.split(',').map((s) => s.trim())
  if (parts.length === 0 || parts.every((p) => p.length === 0)) {
    throw new UsageError(`${flag} needs at least one α (e.g. 0,0.25,0.5,0.75,1)`)
  }
  const out: number[] = []
  for (const p of parts) {
    const value = p.length > 0 && /^[+]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(p) ? Number(p) : Number.NaN
    if (!Number.isFinite(value) || value < 0 || value > 1) {
      throw new UsageError(`${flag}: "${p}" is not an α from 0 (identity copy) to 1 (plain copy)`)
    }
    if (out.includes(value)) {
      throw new UsageError(`${flag}: α ${value} is given twice`)
    }
    out.push(value)
  }
  return out
}

/**
 * Per position of a layer sequence, the scale of a soft copy: every repeated occurrence of a
 * source layer (the second and later, in sequence order, as the plan's YAML marks copies) has its
 * attention and MLP outputs scaled by α; originals are unscaled.
 */
export function copyScales(layers: readonly number[], alpha: number): (BranchScale | undefined)[] {
  const seen = new Set<number>()
  return layers.map((l) => {
    const copy = seen.has(l)
    seen.add(l)
    return copy ? {attn: alpha, mlp: alpha} : undefined
  })
}

/** The α whose measurement is best by the objective (ties: the first in the grid). */
export function bestAlpha<T extends {alpha: number; measurement: Measurement}>(tried: readonly T[], objective: Objective): T {
  const first = tried[0]
  if (first === undefined) {
    throw new UsageError('the soft strategy needs at least one α')
  }
  return tried.reduce((best, t) => (objectiveOf(t.measurement, objective) < objectiveOf(best.measurement, objective) ? t : best), first)
}
