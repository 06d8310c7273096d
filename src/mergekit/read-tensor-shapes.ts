import {open, readFile, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import {SafetensorsParseError} from '../errors.js'

/** Largest safetensors JSON header accepted (the format's own reference implementation uses 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024

export interface TensorShape {
  dtype: string
  shape: number[]
}

/**
 * Tensor names, dtypes and shapes of a checkpoint folder, read from the safetensors headers only
 * (never the data): the files of `model.safetensors.index.json`, else every `*.safetensors`.
 * Enough for layer counting; full reading is the safetensors reader's job.
 */
export async function readTensorShapes(params: {dir: string}): Promise<Map<string, TensorShape>> {
  const files = await checkpointFiles(params.dir)
  const out = new Map<string, TensorShape>()
  for (const file of files) {
    for (const [name, info] of Object.entries(await readHeader(join(params.dir, file)))) {
      out.set(name, info)
    }
  }
  return out
}

async function checkpointFiles(dir: string): Promise<string[]> {
  const index = join(dir, 'model.safetensors.index.json')
  let text: string | undefined
  try {
    text = await readFile(index, 'utf8')
  } catch {
    text = undefined
  }
  if (text !== undefined) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (error) {
      throw new SafetensorsParseError(`${index}: not valid JSON (${(error as Error).message})`)
    }
    const map = (parsed as {weight_map?: unknown}).weight_map
    if (typeof map !== 'object' || map === null) {
      throw new SafetensorsParseError(`${index}: weight_map missing or not an object`)
    }
    return [...new Set(Object.values(map as Record<string, unknown>).map(String))].sort()
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.safetensors')).sort()
  if (files.length === 0) {
    throw new SafetensorsParseError(`${dir}: no *.safetensors files`)
  }
  return files
}

async function readHeader(path: string): Promise<Record<string, TensorShape>> {
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new SafetensorsParseError(`${path}: cannot open (${error.code ?? error.message})`)
  })
  try {
    const {size} = await handle.stat()
    const lenBuf = Buffer.alloc(8)
    await handle.read(lenBuf, 0, 8, 0)
    const len = Number(lenBuf.readBigUInt64LE(0))
    if (size < 8 || len > MAX_HEADER_BYTES || 8 + len > size) {
      throw new SafetensorsParseError(`${path}: header length ${len} does not fit the file (${size} bytes)`)
    }
    const buf = Buffer.alloc(len)
    await handle.read(buf, 0, len, 8)
    let header: unknown
    try {
      header = JSON.parse(buf.toString('utf8'))
    } catch {
      throw new SafetensorsParseError(`${path}: header is not valid JSON`)
    }
    const out: Record<string, TensorShape> = {}
    for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        continue
      }
      const {dtype, shape} = (info ?? {}) as {dtype?: unknown; shape?: unknown}
      if (typeof dtype !== 'string' || !Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new SafetensorsParseError(`${path}: tensor ${name} has no valid dtype/shape`)
      }
      out[name] = {dtype, shape: shape as number[]}
    }
    return out
  } finally {
    await handle.close()
  }
}
