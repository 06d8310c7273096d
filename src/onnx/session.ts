import * as ort from 'onnxruntime-node'
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
}

export interface OrtSession {
  readonly inputNames: readonly string[]
  readonly outputNames: readonly string[]
  run(feeds: Record<string, HostTensor>, fetch: string[]): Promise<Record<string, HostTensor>>
  release(): Promise<void>
}

export async function createSession(options: SessionOptions): Promise<OrtSession> {
  let session: ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(options.path, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
      interOpNumThreads: 1,
      ...(options.threads === undefined ? {} : {intraOpNumThreads: options.threads}),
      logSeverityLevel: 3,
      extra: {session: {disable_prepacking: options.prepack === true ? '0' : '1'}},
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
