import {existsSync, readdirSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import * as ort from 'onnxruntime-node'
import {availableParallelism} from 'node:os'
import {OnnxError} from '../errors.js'

/**
 * The only file that imports onnxruntime-node. Sessions are created from a model FILE (external
 * data needs the file's folder to resolve weight paths) and exchange plain typed arrays, so no
 * other module depends on ORT's types.
 */

export type HostData = Float32Array | BigInt64Array | Int32Array | Uint8Array
export interface HostTensor {
  dims: number[]
  data: HostData
}

export interface SessionOptions {
  /** Path of the .onnx file. */
  path: string
  /** Intra-op threads (default: ORT's choice, one per physical core). */
  threads?: number
  /**
   * Pre-packing copies every MatMul weight per node; with repeated layers the copies would multiply
   * weight memory. Off by default, so a sequence with repeats uses the original's weight memory.
   */
  prepack?: boolean
  /** ONNX Runtime execution providers, in order of preference (default: the CPU). */
  providers?: readonly string[]
}

export interface OrtSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(feeds: Record<string, HostTensor>, fetch: string[]): Promise<Record<string, HostTensor>>
  release(): Promise<void>
}

/**
 * Intra-op threads, clamped to the machine's cores: each ORT thread reserves its own arenas, so a
 * stray `--threads 100000` would cost gigabytes before any work. Refuses what is not a positive integer.
 */
export function clampThreads(threads: number | undefined): number | undefined {
  if (threads === undefined) {
    return undefined
  }
  if (!Number.isInteger(threads) || threads < 1) {
    throw new OnnxError(`--threads must be a positive whole number (got ${threads})`, 'DLEC_THREADS')
  }
  return Math.min(threads, availableParallelism())
}

let ortProfilePrefix: string | undefined

/**
 * A bench knob, not a product option: sessions created after `profileSessions(PREFIX)` write ONNX
 * Runtime's per-node profile (PREFIX_<date>.json, when released); `profileSessions(undefined)`
 * stops it. Used by bench/generate/step-profile.ts.
 */
export function profileSessions(prefix: string | undefined): void {
  ortProfilePrefix = prefix
}

export async function createSession(options: SessionOptions): Promise<OrtSession> {
  const threads = clampThreads(options.threads)
  const profilePrefix = ortProfilePrefix
  let session: ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(options.path, {
      executionProviders: [...(options.providers ?? ['cpu'])],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      enableMemPattern: false,
      ...(threads === undefined ? {} : {intraOpNumThreads: threads}),
      // See profileSessions.
      ...(profilePrefix === undefined ? {} : {enableProfiling: true, profileFilePrefix: profilePrefix}),
      // Fatal only: ORT's own coloured error lines on stderr would repeat what the thrown error says.
      logSeverityLevel: 4,
      // Initializers are never planned into one buffer the size of all the weights (what the memory
      // pattern does with them, and what fails at 7B without swap): external data is memory-mapped
      // from the weight file, and anything else is allocated tensor by tensor.
      extra: {session: {disable_prepacking: options.prepack === true ? '0' : '1', use_device_allocator_for_initializers: '1'}},
    })
  } catch (error) {
    throw new OnnxError(`${options.path}: ONNX Runtime could not load the graph: ${firstLine(error)}`, 'DLEC_ONNX_LOAD', {cause: error})
  }
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetch) {
      const ortFeeds: Record<string, ort.Tensor> = {}
      for (const [name, t] of Object.entries(feeds)) {
        ortFeeds[name] = new ort.Tensor(typeOf(t.data), t.data, t.dims)
      }
      let result: ort.InferenceSession.ReturnType
      try {
        result = await session.run(ortFeeds, fetch)
      } catch (error) {
        throw new OnnxError(`ONNX Runtime failed to run ${options.path}: ${firstLine(error)}`, 'DLEC_ONNX_RUN', {cause: error})
      }
      const out: Record<string, HostTensor> = {}
      for (const name of fetch) {
        const t = result[name]
        if (t === undefined) {
          throw new OnnxError(`ONNX Runtime returned no output ${name}`, 'DLEC_ONNX_RUN')
        }
        out[name] = {dims: [...t.dims], data: t.data as HostData}
      }
      return out
    },
    async release() {
      if (profilePrefix !== undefined) {
        session.endProfiling()
      }
      await session.release()
    },
  }
}

function typeOf(data: HostData): 'float32' | 'int64' | 'int32' | 'bool' {
  if (data instanceof Float32Array) {
    return 'float32'
  }
  if (data instanceof BigInt64Array) {
    return 'int64'
  }
  if (data instanceof Int32Array) {
    return 'int32'
  }
  return 'bool'
}

function firstLine(error: unknown): string {
  const msg = error instanceof Error ? error.message : String(error)
  return msg.split('\n')[0] ?? msg
}

/**
 * Whether ONNX Runtime can run on CUDA here: onnxruntime-node lists the backend, its CUDA provider
 * library is installed (the npm package does not bundle it: its postinstall downloads it, which
 * this project switches off), and an NVIDIA driver is loaded. `missing` names what is not there.
 */
export function cudaStatus(): {available: boolean; detail: string; missing: string[]} {
  const missing: string[] = []
  if (!ort.listSupportedBackends().some((b) => b.name === 'cuda')) {
    missing.push(`this onnxruntime-node build has no CUDA backend (${process.platform}-${process.arch})`)
  }
  const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch)
  const providerLib = existsSync(bin) && readdirSync(bin).some((f) => f.startsWith('libonnxruntime_providers_cuda'))
  if (!providerLib) {
    missing.push(`onnxruntime-node's CUDA execution provider (libonnxruntime_providers_cuda.so) is not installed in ${bin} (see README: GPU)`)
  }
  const driver = existsSync('/proc/driver/nvidia/version') || existsSync('/dev/nvidiactl')
  if (!driver) {
    missing.push('no NVIDIA GPU driver is loaded (/proc/driver/nvidia/version is absent)')
  }
  return {available: missing.length === 0, detail: providerLib && driver ? `CUDA provider in ${bin}, NVIDIA driver loaded` : '', missing}
}
