/**
 * Worker thread of the weight-cache build (see weight-build.ts): takes one job at a time (a row
 * range of one tensor), reads its source bytes once, checks every value is finite and writes each
 * requested form into the build's temporary file at offsets the main thread planned:
 * - `f32`: float32 rows, in place;
 * - `block`: MatMulNBits 4/8-bit blocks of 32 along K (quantize.ts), rows in place;
 * - `w8`: W8A8, signed int8 with one float scale per output channel (max|w| / 127, symmetric), laid
 *   out [K, N] as DynamicQuantizeMatMul reads it: an HF Linear [N, K] row range is transposed into
 *   its column range; a GPT-2 Conv1D [K, N] (whole tensor, one job) is quantized per column.
 * Replies: {id, ok: true} | {id, ok: false, name, value, element} (a non-finite value) | {id, error}.
 */
import {closeSync, openSync, readSync, writeSync} from 'node:fs'
import {parentPort} from 'node:worker_threads'
import {toFloat32} from './float-convert.js'
import {quantizeBlocks} from './quantize.js'
import type {ConvertJob, ConvertReply} from './weight-build.js'

const fds = new Map<string, number>()
const fdOf = (path: string, flags: string): number => {
  const key = `${flags}|${path}`
  let fd = fds.get(key)
  if (fd === undefined) {
    fd = openSync(path, flags)
    fds.set(key, fd)
  }
  return fd
}

/** Source bytes to float32 (BF16 and F32 without DataView; the rest through toFloat32). */
function decode(bytes: Uint8Array, dtype: string, name: string): Float32Array {
  if (dtype === 'BF16') {
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2)
    const out = new Float32Array(src.length)
    const bits = new Uint32Array(out.buffer)
    for (let i = 0; i < src.length; i++) {
      bits[i] = (src[i] as number) << 16
    }
    return out
  }
  if (dtype === 'F32') {
    return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4)
  }
  return toFloat32(bytes, dtype, name)
}

function firstNonFinite(v: Float32Array): number {
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number
    // x - x is 0 for finite x and NaN for NaN / Infinity
    if (x - x !== 0) {
      return i
    }
  }
  return -1
}

function writeAll(fd: number, data: ArrayBufferView, position: number): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  let done = 0
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done)
  }
}

function run(job: ConvertJob): ConvertReply {
  const rows = job.rowEnd - job.rowStart
  const k = job.width
  const bytes = new Uint8Array(rows * k * job.elemBytes)
  const src = fdOf(job.file, 'r')
  let got = 0
  while (got < bytes.length) {
    const n = readSync(src, bytes, got, bytes.length - got, job.offset + job.rowStart * k * job.elemBytes + got)
    if (n === 0) {
      throw new Error(`${job.file}: ends inside tensor ${job.name}`)
    }
    got += n
  }
  const f = job.forms
  if (job.dtype === 'BF16' && f.f32 === undefined && f.block === undefined && f.w8?.layout === 'nk' && rows % 4 === 0 && job.out !== undefined) {
    // The common case at scale (a bf16 Linear to W8A8) in one pass over the source bits.
    const bad = writeW8TransposedBf16(fdOf(job.out, 'r+'), new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2), rows, k, job.rowStart, job.totalRows, f.w8)
    return bad < 0 ? {id: job.id, ok: true} : {id: job.id, ok: false, name: job.name, value: String(bf16Value(bytes, bad)), element: job.rowStart * k + bad}
  }
  const values = decode(bytes, job.dtype, job.name)
  // The NaN / Inf check of the build: the values are in cache right after decoding.
  const bad = firstNonFinite(values)
  if (bad >= 0) {
    return {id: job.id, ok: false, name: job.name, value: String(values[bad]), element: job.rowStart * k + bad}
  }
  if (job.out === undefined) {
    return {id: job.id, ok: true}
  }
  const out = fdOf(job.out, 'r+')
  if (f.f32 !== undefined) {
    writeAll(out, values, f.f32 + job.rowStart * k * 4)
  }
  if (f.block !== undefined) {
    const qb = quantizeBlocks(values, rows, k, f.block.bits, f.block.blockSize)
    const blob = (k / f.block.blockSize) * ((f.block.blockSize * f.block.bits) / 8)
    writeAll(out, qb.q, f.block.q + job.rowStart * blob)
    writeAll(out, qb.scales, f.block.scales + job.rowStart * (k / f.block.blockSize) * 4)
  }
  if (f.w8 !== undefined) {
    if (f.w8.layout === 'nk') {
      writeW8Transposed(out, values, rows, k, job.rowStart, job.totalRows, f.w8)
    } else {
      writeW8Columns(out, values, rows, k, f.w8)
    }
  }
  return {id: job.id, ok: true}
}

/** Rows [r0, r0 + rows) of W [N, K]: per-row scales, int8 written as columns r0.. of B [K, N]. */
function writeW8Transposed(fd: number, w: Float32Array, rows: number, k: number, r0: number, n: number, at: {q: number; scales: number}): void {
  const scales = new Float32Array(rows)
  const q = new Int8Array(rows * k)
  for (let r = 0; r < rows; r++) {
    const base = r * k
    let m = 0
    for (let i = 0; i < k; i++) {
      const a = Math.abs(w[base + i] as number)
      if (a > m) {
        m = a
      }
    }
    const scale = Math.fround(m / 127)
    scales[r] = scale
    const inv = scale === 0 ? 0 : 1 / scale
    for (let i = 0; i < k; i++) {
      q[base + i] = Math.round((w[base + i] as number) * inv)
    }
  }
  // Transposed in 64 x 64 tiles, so reads and writes both stay within a few cache lines.
  const tile = new Int8Array(k * rows)
  const T = 64
  for (let rb = 0; rb < rows; rb += T) {
    const re = Math.min(rows, rb + T)
    for (let ib = 0; ib < k; ib += T) {
      const ie = Math.min(k, ib + T)
      for (let r = rb; r < re; r++) {
        const src = r * k
        for (let i = ib; i < ie; i++) {
          tile[i * rows + r] = q[src + i] as number
        }
      }
    }
  }
  writeAll(fd, scales, at.scales + r0 * 4)
  for (let i = 0; i < k; i++) {
    writeAll(fd, tile.subarray(i * rows, (i + 1) * rows), at.q + i * n + r0)
  }
}

function bf16Value(bytes: Uint8Array, element: number): number {
  const bits = new Uint32Array([((bytes[2 * element + 1] as number) << 24) | ((bytes[2 * element] as number) << 16)])
  return new Float32Array(bits.buffer)[0] as number
}

/**
 * writeW8Transposed for bf16 source rows (`rows` a multiple of 4), fused: each group of 4 rows is
 * decoded into small float buffers that stay in cache, checked for NaN / Inf, reduced to its
 * per-row scales and rounded straight into the transposed [K, rows] block, 4 int8 per 32-bit store.
 * Same bytes as decode + writeW8Transposed. Returns the first non-finite element of the chunk, or -1.
 */
function writeW8TransposedBf16(fd: number, src: Uint16Array, rows: number, k: number, r0: number, n: number, at: {q: number; scales: number}): number {
  const scales = new Float32Array(rows)
  const out = new Int32Array((k * rows) / 4) // [K, rows] int8, viewed 4 at a time
  const buf = new Float32Array(4 * k)
  const bits = new Uint32Array(buf.buffer)
  const inv = new Float64Array(4)
  const stride = rows / 4
  for (let r = 0; r < rows; r += 4) {
    for (let j = 0; j < 4; j++) {
      const base = (r + j) * k
      const o = j * k
      let m = 0
      for (let i = 0; i < k; i++) {
        const b = src[base + i] as number
        // exponent all ones: Infinity or NaN
        if ((b & 0x7f_80) === 0x7f_80) {
          return base + i
        }
        bits[o + i] = b << 16
        const a = Math.abs(buf[o + i] as number)
        if (a > m) {
          m = a
        }
      }
      const scale = Math.fround(m / 127)
      scales[r + j] = scale
      inv[j] = scale === 0 ? 0 : 1 / scale
    }
    const [i0, i1, i2, i3] = inv as unknown as [number, number, number, number]
    const col = r / 4
    for (let i = 0; i < k; i++) {
      out[i * stride + col] =
        (Math.round((buf[i] as number) * i0) & 0xff) |
        ((Math.round((buf[k + i] as number) * i1) & 0xff) << 8) |
        ((Math.round((buf[2 * k + i] as number) * i2) & 0xff) << 16) |
        (Math.round((buf[3 * k + i] as number) * i3) << 24)
    }
  }
  writeAll(fd, scales, at.scales + r0 * 4)
  const q = new Uint8Array(out.buffer)
  for (let i = 0; i < k; i++) {
    writeAll(fd, q.subarray(i * rows, (i + 1) * rows), at.q + i * n + r0)
  }
  return -1
}

/** A whole W [K, N] (GPT-2 Conv1D): per-column scales, int8 in place. */
function writeW8Columns(fd: number, w: Float32Array, kRows: number, n: number, at: {q: number; scales: number}): void {
  const m = new Float32Array(n)
  for (let r = 0; r < kRows; r++) {
    for (let c = 0; c < n; c++) {
      const a = Math.abs(w[r * n + c] as number)
      if (a > (m[c] as number)) {
        m[c] = a
      }
    }
  }
  const scales = m.map((x) => x / 127)
  const inv = scales.map((s) => (s === 0 ? 0 : 1 / s))
  const q = new Int8Array(kRows * n)
  for (let r = 0; r < kRows; r++) {
    for (let c = 0; c < n; c++) {
      q[r * n + c] = Math.round((w[r * n + c] as number) * (inv[c] as number))
    }
  }
  writeAll(fd, q, at.q)
  writeAll(fd, scales, at.scales)
}

parentPort?.on('message', (msg: ConvertJob | 'close') => {
  if (msg === 'close') {
    for (const fd of fds.values()) {
      closeSync(fd)
    }
    fds.clear()
    parentPort?.postMessage('closed')
    return
  }
  let reply: ConvertReply
  try {
    reply = run(msg)
  } catch (error) {
    reply = {id: msg.id, error: (error as Error).message, code: (error as NodeJS.ErrnoException).code}
  }
  parentPort?.postMessage(reply)
})
