import {createHash} from 'node:crypto'
import {closeSync, openSync, readdirSync, readFileSync, readSync, statSync} from 'node:fs'
import {join} from 'node:path'

/** Bytes read from each end and the middle of each safetensors file for the identity. */
const SAMPLE_BYTES = 64 * 1024

/**
 * A cheap identity of the weights: config.json, and for each safetensors file its name, size and
 * 64 KiB from its start (the header), middle and end. Two fine-tunes of one base have the same
 * config and sizes but differ in every weight byte, so `profile --resume` can tell them apart
 * without reading the whole checkpoint.
 */
export function modelHash(modelDir: string): string | null {
  try {
    const hash = createHash('sha256').update(readFileSync(join(modelDir, 'config.json')))
    for (const file of readdirSync(modelDir).filter((f) => f.endsWith('.safetensors')).sort()) {
      const path = join(modelDir, file)
      const {size} = statSync(path)
      hash.update(`${file}:${size}`)
      const fd = openSync(path, 'r')
      try {
        const buffer = Buffer.alloc(SAMPLE_BYTES)
        for (const at of [0, Math.max(0, Math.floor(size / 2) - SAMPLE_BYTES / 2), Math.max(0, size - SAMPLE_BYTES)]) {
          const n = readSync(fd, buffer, 0, SAMPLE_BYTES, at)
          hash.update(buffer.subarray(0, n))
        }
      } finally {
        closeSync(fd)
      }
    }
    return hash.digest('hex').slice(0, 16)
  } catch {
    return null
  }
}
