import {MAX_MODEL_LAYERS} from '../architectures/registry.js'
import {UsageError} from '../errors.js'
import {baseParameterCount, type ParameterBreakdown} from '../model/parameter-count.js'

/**
 * How big the expanded model should be: a number of added layers, a parameter count, or a growth
 * in parameters. Parameter targets are rounded to the nearest achievable size (a whole number of
 * added layers) and the result says so. Pure.
 */
export type TargetSize = {addLayers: number} | {targetParams: number} | {growth: number}

export interface ResolvedTarget {
  addLayers: number
  baseParams: number
  /** Parameters of one added layer (layers of a model are the same size in every supported family). */
  layerParams: number
  /** Parameters after adding `addLayers` layers. */
  params: number
  /** The requested parameter count, for --target-params / --growth. */
  requestedParams?: number
  /** False when the request fell between two layer counts and was rounded. */
  exact: boolean
  /** One line for people: what was asked and what is achievable. */
  note: string
}

const SUFFIXES: Record<string, number> = {'': 1, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12}

/** `3.25B`, `260K`, `1.5e9`, `7000000` -> a parameter count. */
export function parseParameterCount(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([kKmMbBgGtT]?)\s*$/.exec(text)
  const scale = m ? SUFFIXES[(m[2] ?? '').toUpperCase()] : undefined
  if (!m || scale === undefined) {
    throw new UsageError(`--target-params "${text}" is not a parameter count (e.g. 3.25B, 260K, 7000000)`)
  }
  return Math.round(Number(m[1]) * scale)
}

/** `16%` or `0.16` -> 0.16. */
export function parseGrowth(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text)
  if (!m) {
    throw new UsageError(`--growth "${text}" is not a growth (e.g. 16% or 0.16)`)
  }
  return m[2] === '%' ? Number(m[1]) / 100 : Number(m[1])
}

export function resolveTargetSize(params: {breakdown: ParameterBreakdown; target: TargetSize}): ResolvedTarget {
  const {breakdown, target} = params
  const baseParams = baseParameterCount(breakdown)
  const layerParams = typicalLayerParams(breakdown.perLayer)
  if ('addLayers' in target) {
    if (!Number.isInteger(target.addLayers) || target.addLayers < 1) {
      throw new UsageError(`--add-layers must be a positive whole number (got ${target.addLayers})`)
    }
    refuseTooDeep(target.addLayers, breakdown.perLayer.length)
    const p = baseParams + target.addLayers * layerParams
    return {addLayers: target.addLayers, baseParams, layerParams, params: p, exact: true, note: `adding ${target.addLayers} layers: ${fmt(baseParams)} -> ${fmt(p)} parameters`}
  }
  let requested: number
  let asked: string
  if ('growth' in target) {
    if (!(target.growth > 0)) {
      throw new UsageError(`--growth must be positive (got ${target.growth})`)
    }
    requested = Math.round(baseParams * (1 + target.growth))
    asked = `growth ${(target.growth * 100).toFixed(2).replace(/\.?0+$/, '')}% (${fmt(requested)} parameters)`
  } else {
    requested = target.targetParams
    asked = `target ${fmt(requested)} parameters`
  }
  if (requested <= baseParams) {
    throw new UsageError(`${asked} is not larger than the model (${fmt(baseParams)} parameters); dlec only adds layers`)
  }
  const addLayers = Math.round((requested - baseParams) / layerParams)
  if (addLayers < 1) {
    throw new UsageError(`${asked} is closer to the original size than to one added layer (+${fmt(layerParams)} parameters per layer)`)
  }
  refuseTooDeep(addLayers, breakdown.perLayer.length)
  const p = baseParams + addLayers * layerParams
  const exact = p === requested
  const diff = ((p - requested) / requested) * 100
  const note = exact
    ? `${asked}: exactly ${addLayers} added layers`
    : `${asked} is not reachable exactly: rounded to the nearest achievable size, ${addLayers} added layers = ${fmt(p)} parameters (${diff >= 0 ? '+' : ''}${diff.toFixed(3)}% of the request)`
  return {addLayers, baseParams, layerParams, params: p, requestedParams: requested, exact, note}
}

/** A target past dlec's depth limit is refused before any search allocates per added layer. */
function refuseTooDeep(addLayers: number, depth: number): void {
  if (addLayers > MAX_MODEL_LAYERS - depth) {
    throw new UsageError(`the target needs ${addLayers} added layers: more than dlec's limit of ${MAX_MODEL_LAYERS} layers in all (the model has ${depth})`)
  }
}

function typicalLayerParams(perLayer: readonly number[]): number {
  const sorted = [...perLayer].sort((a, b) => a - b)
  const mid = sorted[Math.floor(sorted.length / 2)]
  if (mid === undefined || mid <= 0) {
    throw new UsageError('the model has no decoder layer parameters to add')
  }
  return mid
}

/** 3251700000 -> `3,251,700,000 (3.25B)`. */
export function fmt(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ]
  const unit = units.find(([u]) => n >= u)
  const short = unit ? ` (${Number((n / unit[0]).toPrecision(4))}${unit[1]})` : ''
  return `${n.toLocaleString('en-US')}${short}`
}
