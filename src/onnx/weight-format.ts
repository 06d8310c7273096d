import {UsageError} from '../errors.js'
import {dtypeBytes, type SafetensorsDtype} from '../safetensors/dtype.js'
import {describeCpu, hasInt8DotProduct, type CpuFeatures} from './cpu-features.js'
import {WEIGHT_FORMATS, type WeightFormat} from './weight-store.js'

/** What `--quant` accepts: a weight format, or `auto` (chosen by model size and CPU). */
export type QuantChoice = WeightFormat | 'auto'
export const QUANT_CHOICES: readonly QuantChoice[] = ['auto', ...WEIGHT_FORMATS]

/**
 * Largest float32 working set `auto` runs as fp32: 2 GB (0.5B parameters). Above it a
 * bf16 / fp16 checkpoint would need an fp32 copy of that size in the cache (and an fp32
 * checkpoint that much page cache), so `auto` picks a quantized format instead.
 */
export const FP32_AUTO_LIMIT_BYTES = 2e9

export interface FormatDecision {
  format: WeightFormat
  requested: QuantChoice
  /** One line: why this format, and what it costs on disk. */
  reason: string
  /** Bytes the cache entry of this format takes (0: the checkpoint is read in place). */
  cacheBytes: number
}

export interface ChooseFormatParams {
  requested?: QuantChoice
  /** Float tensors of the checkpoint: dtype and element count. */
  tensors: {dtype: SafetensorsDtype; elements: number}[]
  /** Elements in the tensors the quantized formats store as int8 / int4. */
  quantizedElements: number
  cpu: CpuFeatures
  limitBytes?: number
}

/** The weight format to run, and why. Pure. */
export function chooseWeightFormat(p: ChooseFormatParams): FormatDecision {
  const requested = p.requested ?? 'auto'
  if (!QUANT_CHOICES.includes(requested)) {
    throw new UsageError(`--quant ${requested}: expected one of ${QUANT_CHOICES.join(', ')}`)
  }
  const limit = p.limitBytes ?? FP32_AUTO_LIMIT_BYTES
  const elements = p.tensors.reduce((s, t) => s + t.elements, 0)
  const sourceBytes = p.tensors.reduce((s, t) => s + t.elements * dtypeBytes(t.dtype), 0)
  const fp32Bytes = elements * 4
  const allF32 = p.tensors.every((t) => t.dtype === 'F32')
  const dtypes = [...new Set(p.tensors.map((t) => t.dtype.toLowerCase()))].join('/')
  const rest = (elements - p.quantizedElements) * 4
  const cost: Record<WeightFormat, number> = {
    fp32: allF32 ? 0 : fp32Bytes,
    int8: p.quantizedElements * (1 + 4 / 32) + rest,
    int4: p.quantizedElements * (0.5 + 4 / 32) + rest,
    w8a8: p.quantizedElements + rest,
  }
  const gb = formatBytes
  const diskNote = (f: WeightFormat): string => (cost[f] === 0 ? 'float32 checkpoint read in place, no copy' : `${gb(cost[f])} in the weight cache`)
  if (requested !== 'auto') {
    const extra = requested === 'fp32' && !allF32 ? `: an fp32 copy of the ${dtypes} weights, ${diskNote('fp32')}` : `: ${diskNote(requested)}`
    return {format: requested, requested, reason: `--quant ${requested}${extra}`, cacheBytes: cost[requested]}
  }
  if (fp32Bytes <= limit) {
    return {format: 'fp32', requested, reason: `auto: ${gb(fp32Bytes)} as float32, within the ${gb(limit)} fp32 limit: exact; ${diskNote('fp32')}`, cacheBytes: cost.fp32}
  }
  const format: WeightFormat = hasInt8DotProduct(p.cpu) ? 'w8a8' : 'int4'
  const why = format === 'w8a8' ? 'int8 dot products' : 'no int8 dot-product instructions, so the smallest format'
  return {
    format,
    requested,
    reason: `auto: ${gb(sourceBytes)} of ${dtypes} weights would be ${gb(fp32Bytes)} as float32, over the ${gb(limit)} fp32 limit; ${describeCpu(p.cpu)}: ${why} (${diskNote(format)}; --quant fp32 would take ${gb(cost.fp32 === 0 ? fp32Bytes : cost.fp32)}${cost.fp32 === 0 ? ' of page cache' : ' on disk'})`,
    cacheBytes: cost[format],
  }
}

/** 1234567 -> "1.23 MB" (decimal units). Pure. */
export function formatBytes(b: number): string {
  if (b >= 1e9) {
    return `${(b / 1e9).toFixed(1)} GB`
  }
  if (b >= 1e6) {
    return `${(b / 1e6).toFixed(1)} MB`
  }
  return `${(b / 1e3).toFixed(1)} KB`
}
