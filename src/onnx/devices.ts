import {OnnxError} from '../errors.js'
import {cudaStatus} from './session.js'
import type {QuantChoice} from './weight-format.js'

/** Where the decoder runs: `auto` is CUDA when it is usable here, else the CPU. */
export type DeviceChoice = 'cpu' | 'cuda' | 'auto'
export type Device = Exclude<DeviceChoice, 'auto'>

/**
 * How every decoder of a command runs, built once from the command's flags (cli/flags.ts) and
 * passed whole to eval, profile, curve, plan and expand.
 */
export interface DecoderOptions {
  /** dlec's cache: converted weights and ONNX graphs (not the Hugging Face hub cache). */
  cacheDir: string
  /** ONNX Runtime intra-op threads (default: one per core). */
  threads?: number
  /** Weight format of the graphs (default fp32). */
  /** Weight format: auto (default: by model size and CPU, weight-format.ts), fp32, int8, int4, w8a8. */
  quant?: QuantChoice
  /** Default cpu. */
  device?: DeviceChoice
}

/** Just the decoder options of a larger params object (which extends DecoderOptions), passed on whole. */
export function decoderOptions(params: DecoderOptions): DecoderOptions {
  return {cacheDir: params.cacheDir, threads: params.threads, quant: params.quant, device: params.device}
}

/** The one table from a device to ONNX Runtime execution providers, in order of preference. */
export const DEVICES = {
  cpu: {providers: ['cpu'], description: 'ONNX Runtime CPU execution provider (bundled with onnxruntime-node)'},
  cuda: {providers: ['cuda', 'cpu'], description: 'ONNX Runtime CUDA execution provider (CPU for the ops it lacks)'},
} as const satisfies Record<Device, {providers: readonly string[]; description: string}>

export interface ResolvedDevice {
  device: Device
  providers: readonly string[]
  /** Why this device: shown to the user (e.g. `auto: CUDA unavailable (...); running on the CPU`). */
  reason: string
}

/**
 * The device a choice means on this machine. `cuda` where CUDA is unusable is an OnnxError naming
 * what is missing; `auto` falls back to the CPU and says why.
 */
export function resolveDevice(choice: DeviceChoice = 'cpu'): ResolvedDevice {
  if (choice === 'cpu') {
    return {device: 'cpu', providers: DEVICES.cpu.providers, reason: 'cpu (--device cpu)'}
  }
  const cuda = cudaStatus()
  if (cuda.available) {
    return {device: 'cuda', providers: DEVICES.cuda.providers, reason: `cuda (--device ${choice}: ${cuda.detail})`}
  }
  if (choice === 'cuda') {
    throw new OnnxError(`--device cuda: CUDA is not usable here: ${cuda.missing.join('; ')}`, 'DLEC_DEVICE_UNAVAILABLE')
  }
  return {device: 'cpu', providers: DEVICES.cpu.providers, reason: `cpu (--device auto: CUDA unavailable: ${cuda.missing.join('; ')})`}
}
