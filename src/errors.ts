/**
 * Every error dlec throws on purpose is a DlecError: a stable `code`, an `exitCode` from one map,
 * and a one-line message that names the file / field / layer at fault. The CLI turns these into a
 * single "Error: ..." line and that exit code; anything else is a bug and keeps its stack.
 */
export const EXIT_CODES = {
  usage: 2,
  config: 3,
  model: 4,
  safetensors: 5,
  merge: 6,
  mergekit: 7,
  store: 8,
  onnx: 9,
  data: 10,
  hub: 11,
  /** Ended by a signal: 128 + the signal's number, as a shell reports it. */
  interrupted: 130,
  terminated: 143,
  hangup: 129,
} as const

export type ErrorKind = keyof typeof EXIT_CODES

export class DlecError extends Error {
  readonly code: string
  readonly exitCode: number
  readonly kind: ErrorKind
  /** Extra text shown with --verbose (e.g. the output of a failed child process). */
  readonly details?: string

  constructor(kind: ErrorKind, code: string, message: string, options?: {cause?: unknown; details?: string}) {
    super(oneLine(message), options?.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.kind = kind
    this.code = code
    this.exitCode = EXIT_CODES[kind]
    this.details = options?.details
  }
}

/** Bad flags or arguments. */
export class UsageError extends DlecError {
  constructor(message: string, code = 'DLEC_USAGE') {
    super('usage', code, message)
  }
}

/** A mergekit YAML that does not parse or validate. */
export class ConfigError extends DlecError {
  constructor(message: string, code = 'DLEC_CONFIG') {
    super('config', code, message)
  }
}

/** A model folder / config.json / architecture problem. */
export class ModelError extends DlecError {
  constructor(message: string, code = 'DLEC_MODEL') {
    super('model', code, message)
  }
}

/** A malformed or truncated safetensors file or index. */
export class SafetensorsParseError extends DlecError {
  constructor(message: string, code = 'DLEC_SAFETENSORS') {
    super('safetensors', code, message)
  }
}

/** The native merge engine refused or failed. */
export class MergeError extends DlecError {
  constructor(message: string, code = 'DLEC_MERGE', options?: {cause?: unknown; details?: string}) {
    super('merge', code, message, options)
  }
}

/** The external mergekit-yaml process failed or is missing. */
export class MergekitError extends DlecError {
  constructor(message: string, code = 'DLEC_MERGEKIT', options?: {cause?: unknown; details?: string}) {
    super('mergekit', code, message, options)
  }
}

/** The DuckDB store: lock held, old schema, failed run. */
export class StoreError extends DlecError {
  constructor(message: string, code = 'DLEC_STORE', options?: {cause?: unknown}) {
    super('store', code, message, options)
  }
}

/** Building or running an ONNX graph. */
export class OnnxError extends DlecError {
  constructor(message: string, code = 'DLEC_ONNX', options?: {cause?: unknown}) {
    super('onnx', code, message, options)
  }
}

/** Calibration / evaluation data that is missing, empty or unreadable. */
export class DataError extends DlecError {
  constructor(message: string, code = 'DLEC_DATA') {
    super('data', code, message)
  }
}

/** Hub access (network, auth, repo). */
export class HubError extends DlecError {
  constructor(message: string, code = 'DLEC_HUB', options?: {cause?: unknown}) {
    super('hub', code, message, options)
  }
}

/** The signals that end a long command, and the kind (exit code 128 + signal number) of each. */
export const SIGNAL_KINDS = {SIGINT: 'interrupted', SIGHUP: 'hangup', SIGTERM: 'terminated'} as const satisfies Record<string, ErrorKind>
export type StopSignal = keyof typeof SIGNAL_KINDS

/**
 * A long operation ended by a signal (or an aborted AbortSignal). Libraries throw it with kind
 * `interrupted` once they have cleaned up; the CLI re-labels it with the signal that arrived.
 */
export class InterruptedError extends DlecError {
  readonly signal: StopSignal
  constructor(message: string, signal: StopSignal = 'SIGINT') {
    super(SIGNAL_KINDS[signal], 'DLEC_INTERRUPTED', message)
    this.signal = signal
  }
}

function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, ' ').trim()
}
