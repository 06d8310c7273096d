import {constants, existsSync} from 'node:fs'
import {open, stat, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {ModelError, SafetensorsParseError} from '../errors.js'
import {traceIo} from '../trace.js'
import type {SafetensorsDtype} from './dtype.js'
import {confinedRealPath, modelRealRoot} from './confined-real-path.js'
import {LENGTH_PREFIX_BYTES, parseSafetensorsHeader, readHeaderLength, type SafetensorsHeader} from './header.js'
import {INDEX_FILE, parseIndexJson, SINGLE_FILE} from './index-json.js'
import {fsReason} from '../util/fs-error.js'
import {decodeUtf8, readInputFile} from '../util/read-input-file.js'

/** The largest model.safetensors.index.json read (a 405B model's index is about 100 KB). */
export const MAX_INDEX_BYTES = 64 * 1024 * 1024

export interface TensorInfo {
  name: string
  dtype: SafetensorsDtype
  shape: number[]
  /** Real (symlink-resolved) absolute path of the shard file. */
  file: string
  /** Absolute byte offset of the tensor's data in `file`. */
  offset: number
  byteLength: number
}

/** Default size of the chunks `chunks()` yields. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024

/**
 * The tensors of a model folder: `model.safetensors.index.json` (preferred, as mergekit does) or
 * `model.safetensors`. Headers are read and validated when it opens; tensor data is read on demand
 * through one FileHandle per shard, opened on first use. Call `close()` when done.
 */
export class ShardedTensorIndex {
  readonly dir: string
  /** Real paths of the shard files, sorted. */
  readonly files: string[]
  private readonly tensors: Map<string, TensorInfo>
  private readonly handles = new Map<string, Promise<FileHandle>>()

  private constructor(dir: string, files: string[], tensors: Map<string, TensorInfo>) {
    this.dir = dir
    this.files = files
    this.tensors = tensors
  }

  static async open(dir: string): Promise<ShardedTensorIndex> {
    const root = await modelRealRoot(dir)
    const indexPath = join(dir, INDEX_FILE)
    const singlePath = join(dir, SINGLE_FILE)
    const tensors = new Map<string, TensorInfo>()
    if (existsSync(indexPath)) {
      const realIndex = await confinedRealPath(indexPath, root, indexPath)
      const fail = (why: string): never => {
        throw new SafetensorsParseError(`${indexPath}: cannot read the index (${why})`, 'DLEC_SAFETENSORS_INDEX')
      }
      const index = parseIndexJson(decodeUtf8(await readInputFile(realIndex, {maxBytes: MAX_INDEX_BYTES, fail}), fail), indexPath)
      const byFile = new Map<string, string[]>()
      for (const [name, file] of index.weightMap) {
        byFile.set(file, [...(byFile.get(file) ?? []), name])
      }
      const files: string[] = []
      for (const file of [...byFile.keys()].sort()) {
        const path = join(dir, file)
        const real = await confinedRealPath(path, root, `${indexPath} (shard ${file})`)
        files.push(real)
        const header = await readSafetensorsHeader(real, path)
        const inFile = new Map(header.tensors.map((t) => [t.name, t]))
        for (const name of byFile.get(file) ?? []) {
          const entry = inFile.get(name)
          if (entry === undefined) {
            throw new SafetensorsParseError(`${indexPath}: tensor ${name} is mapped to ${file}, which does not contain it`)
          }
          tensors.set(name, toInfo(entry, header, real))
        }
      }
      return new ShardedTensorIndex(dir, files.sort(), orderByIndex(tensors, index.weightMap))
    }
    if (existsSync(singlePath)) {
      const real = await confinedRealPath(singlePath, root, singlePath)
      const header = await readSafetensorsHeader(real, singlePath)
      for (const entry of header.tensors) {
        tensors.set(entry.name, toInfo(entry, header, real))
      }
      return new ShardedTensorIndex(dir, [real], tensors)
    }
    const bin = existsSync(join(dir, 'pytorch_model.bin')) || existsSync(join(dir, 'pytorch_model.bin.index.json'))
    throw new ModelError(
      bin
        ? `${dir}: only pytorch_model.bin weights found; dlec reads safetensors (convert the checkpoint first)`
        : `${dir}: no ${SINGLE_FILE} or ${INDEX_FILE} in the model folder`,
    )
  }

  /** Tensor names: index order for a sharded checkpoint, data-offset order for a single file. */
  names(): string[] {
    return [...this.tensors.keys()]
  }

  has(name: string): boolean {
    return this.tensors.has(name)
  }

  info(name: string): TensorInfo {
    const info = this.tensors.get(name)
    if (info === undefined) {
      throw new ModelError(`${this.dir}: tensor ${name} not found in the checkpoint`)
    }
    return info
  }

  /** The whole tensor's bytes (little-endian, as stored). */
  async read(name: string): Promise<Uint8Array> {
    const info = this.info(name)
    return this.readRange(name, 0, info.byteLength)
  }

  /**
   * `length` bytes of the tensor's data starting `start` bytes into it: a new array, or the first
   * `length` bytes of `into` (a reused buffer: no allocation and no zero-filling per read).
   */
  async readRange(name: string, start: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const info = this.info(name)
    if (start < 0 || length < 0 || start + length > info.byteLength) {
      throw new RangeError(`range ${start}+${length} outside tensor ${name} (${info.byteLength} bytes)`)
    }
    if (into !== undefined && into.byteLength < length) {
      throw new RangeError(`buffer of ${into.byteLength} bytes too small for ${length} bytes of tensor ${name}`)
    }
    const out = into === undefined ? new Uint8Array(length) : into.subarray(0, length)
    const handle = await this.handle(info.file)
    let done = 0
    while (done < length) {
      const {bytesRead} = await handle.read(out, done, length - done, info.offset + start + done).catch((error: unknown) => {
        throw new SafetensorsParseError(`${info.file}: cannot read tensor ${name} (${fsReason(error)})`)
      })
      if (bytesRead === 0) {
        throw new SafetensorsParseError(`${info.file}: file ended while reading tensor ${name} (truncated since it was opened?)`)
      }
      done += bytesRead
    }
    return out
  }

  /**
   * The tensor's bytes in order, as chunks of at most `chunkBytes` (a multiple of the element size
   * keeps elements whole), between `start` and `end` bytes into the tensor. Memory stays at one
   * chunk whatever the tensor size.
   */
  async *chunks(name: string, options: {chunkBytes?: number; start?: number; end?: number} = {}): AsyncGenerator<Uint8Array> {
    const info = this.info(name)
    const chunkBytes = Math.max(1, options.chunkBytes ?? DEFAULT_CHUNK_BYTES)
    const end = options.end ?? info.byteLength
    for (let at = options.start ?? 0; at < end; at += chunkBytes) {
      yield await this.readRange(name, at, Math.min(chunkBytes, end - at))
    }
  }

  /** Closes every shard handle opened so far. The index can be used again (handles reopen). */
  async close(): Promise<void> {
    const handles = [...this.handles.values()]
    this.handles.clear()
    await Promise.all(handles.map(async (h) => (await h.catch(() => undefined))?.close()))
  }

  private handle(file: string): Promise<FileHandle> {
    let handle = this.handles.get(file)
    if (handle === undefined) {
      handle = open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
        throw new SafetensorsParseError(`${file}: cannot open the file (${fsReason(error)})`)
      })
      handle.catch(() => undefined)
      this.handles.set(file, handle)
    }
    return handle
  }
}

/** Reads and validates the header of one safetensors file; `source` names it in errors. */
export async function readSafetensorsHeader(file: string, source: string = file): Promise<SafetensorsHeader> {
  traceIo('safetensors header %s', source)
  const info = await stat(file).catch((error: unknown) => {
    throw new SafetensorsParseError(`${source}: cannot open the file (${fsReason(error)})`)
  })
  if (!info.isFile()) {
    throw new SafetensorsParseError(`${source}: not a regular file (${info.isDirectory() ? 'a folder' : 'a FIFO, socket or device'})`, 'DLEC_SAFETENSORS_NOT_FILE')
  }
  // O_NONBLOCK: if the path was swapped for a FIFO since the stat, open must not wait for a writer.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw new SafetensorsParseError(`${source}: cannot open the file (${fsReason(error)})`)
  })
  try {
    const opened = await handle.stat()
    const size = opened.size
    if (!opened.isFile()) {
      throw new SafetensorsParseError(`${source}: not a regular file`, 'DLEC_SAFETENSORS_NOT_FILE')
    }
    const prefix = new Uint8Array(LENGTH_PREFIX_BYTES)
    await handle.read(prefix, 0, LENGTH_PREFIX_BYTES, 0)
    const headerLength = readHeaderLength(prefix, size, source)
    const bytes = new Uint8Array(LENGTH_PREFIX_BYTES + headerLength)
    const {bytesRead} = await handle.read(bytes, 0, bytes.byteLength, 0)
    if (bytesRead !== bytes.byteLength) {
      throw new SafetensorsParseError(`${source}: file ended inside the header`)
    }
    return parseSafetensorsHeader(bytes, size, source)
  } finally {
    await handle.close()
  }
}

function toInfo(
  entry: SafetensorsHeader['tensors'][number],
  header: SafetensorsHeader,
  file: string,
): TensorInfo {
  return {
    name: entry.name,
    dtype: entry.dtype,
    shape: entry.shape,
    file,
    offset: header.dataStart + entry.begin,
    byteLength: entry.end - entry.begin,
  }
}

function orderByIndex(tensors: Map<string, TensorInfo>, weightMap: Map<string, string>): Map<string, TensorInfo> {
  const out = new Map<string, TensorInfo>()
  for (const name of weightMap.keys()) {
    const info = tensors.get(name)
    if (info !== undefined) {
      out.set(name, info)
    }
  }
  return out
}
