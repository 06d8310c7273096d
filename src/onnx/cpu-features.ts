import {readFileSync} from 'node:fs'
import {cpus} from 'node:os'

/**
 * What this CPU offers the int8 kernels of ONNX Runtime's CPU provider, read from the flags the OS
 * reports (Linux: /proc/cpuinfo), never assumed: AVX-512 VNNI / AVX-VNNI (u8 x s8 dot products,
 * what DynamicQuantizeMatMul with int8 weights runs on), AMX-INT8 (tile int8 matmul) and AVX-512
 * BF16. `known` is false where the flags cannot be read (then every feature reads as absent).
 */
export interface CpuFeatures {
  known: boolean
  model: string
  cores: number
  avx2: boolean
  avx512: boolean
  avx512Vnni: boolean
  avxVnni: boolean
  amxInt8: boolean
  avx512Bf16: boolean
}

let cached: CpuFeatures | undefined

export function cpuFeatures(): CpuFeatures {
  if (cached !== undefined) {
    return cached
  }
  let text = ''
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8')
  } catch {
    // not Linux, or no procfs: nothing is known
  }
  cached = parseCpuInfo(text, cpus()[0]?.model ?? 'unknown CPU', cpus().length)
  return cached
}

/** Parses /proc/cpuinfo text (the first processor's `flags` line). Pure. */
export function parseCpuInfo(text: string, fallbackModel: string, cores: number): CpuFeatures {
  const flagsLine = /^flags\s*:\s*(.*)$/m.exec(text)?.[1]
  const flags = new Set((flagsLine ?? '').split(/\s+/).filter((f) => f.length > 0))
  const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? fallbackModel
  return {
    known: flagsLine !== undefined,
    model,
    cores,
    avx2: flags.has('avx2'),
    avx512: flags.has('avx512f') && flags.has('avx512bw'),
    avx512Vnni: flags.has('avx512_vnni'),
    avxVnni: flags.has('avx_vnni'),
    amxInt8: flags.has('amx_int8') && flags.has('amx_tile'),
    avx512Bf16: flags.has('avx512_bf16'),
  }
}

/** True when the CPU has int8 dot-product instructions (VNNI or AMX) that make W8A8 the fast format. */
export function hasInt8DotProduct(f: CpuFeatures): boolean {
  return f.avx512Vnni || f.avxVnni || f.amxInt8
}

/** One line naming the int8 features found, e.g. "AMD EPYC: AVX-512 VNNI, AVX-512 BF16 (no AMX)". */
export function describeCpu(f: CpuFeatures): string {
  if (!f.known) {
    return `${f.model}: CPU flags unknown`
  }
  const have = [f.amxInt8 ? 'AMX-INT8' : '', f.avx512Vnni ? 'AVX-512 VNNI' : '', f.avxVnni ? 'AVX-VNNI' : '', f.avx512Bf16 ? 'AVX-512 BF16' : '', !f.avx512 && f.avx2 ? 'AVX2' : '']
  const list = have.filter((h) => h !== '').join(', ')
  return `${f.model}: ${list === '' ? 'no int8 dot-product instructions' : list}${f.amxInt8 ? '' : ' (no AMX)'}`
}
