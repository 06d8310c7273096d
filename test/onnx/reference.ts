import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ROOT, python} from '../helpers/cli.js'

/** Reference outputs written by test/python/reference_forward.py (transformers, float32). */
export interface Reference {
  ids: number[][]
  lengths: number[]
  layers: number[] | null
  files: Record<string, number[]>
  /** A reference array, by file stem (`logits`, `hidden_3`). */
  read(name: string): Float32Array
}

/** Runs transformers once for all `targets` (name -> model dir, optionally `@0,1,1,2`) into a temp dir. */
export function writeReferences(targets: Record<string, string>): (name: string) => Reference {
  const out = mkdtempSync(join(tmpdir(), 'dlec-ref-'))
  execFileSync(python(), [join(ROOT, 'test/python/reference_forward.py'), out, ...Object.entries(targets).map(([k, v]) => `${k}=${v}`)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  return (name) => {
    const dir = join(out, name)
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Omit<Reference, 'read'>
    return {...manifest, read: (stem) => readF32(join(dir, `${stem}.f32`))}
  }
}

/** A little-endian float32 file as a Float32Array (copied: small files come from a shared pool). */
export function readF32(path: string): Float32Array {
  const b = readFileSync(path)
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length))
}

/** Max |a - b| over the real (unpadded) tokens of [B, T, W] arrays. */
export function maxDiffTokens(a: Float32Array, b: Float32Array, lengths: number[], width: number): number {
  const T = Math.max(...lengths)
  let max = 0
  lengths.forEach((len, r) => {
    for (let t = 0; t < len; t++) {
      for (let i = 0; i < width; i++) {
        const j = (r * T + t) * width + i
        max = Math.max(max, Math.abs((a[j] as number) - (b[j] as number)))
      }
    }
  })
  return max
}
