import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {convertChunk} from '../../src/merge/convert-chunk.js'
import {float32Bits} from '../../src/safetensors/dtype.js'
import {python, ROOT} from '../helpers/cli.js'

const NAMES = {F32: 'float32', BF16: 'bfloat16', F16: 'float16'} as const
type D = keyof typeof NAMES

/** Values with every special case scale meets: signed zeros, NaNs, infinities, subnormals, ties, overflow. */
function inputs(): Uint32Array {
  const bits = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fa00001, 1, 0x80000001, 0x00800000, 0x7f7fffff]
  for (const v of [1, -1, 0.1, -3.5, 65504, 70000, 1e-6, -1e-8, 3.0e38, 1.00390625, 1.0078125, -2.0000152587890625]) {
    bits.push(float32Bits(v))
  }
  let seed = 99
  for (let i = 0; i < 5000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
    bits.push(seed)
  }
  return Uint32Array.from(bits)
}

describe('convertChunk == torch x.to(dtype) * scale -> .to(out_dtype)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dlec-scale-'))
  after(() => rmSync(dir, {recursive: true, force: true}))
  const x = inputs()
  writeFileSync(join(dir, 'in.bin'), new Uint8Array(x.buffer))
  for (const scale of [0, -0.0, 0.5, 1.25, 3.0e-3, 1]) {
    it(`scale ${Object.is(scale, -0) ? '-0.0' : scale}`, () => {
      const sub = mkdtempSync(join(dir, 's'))
      execFileSync(python(), [join(ROOT, 'test/python/scale_reference.py'), join(dir, 'in.bin'), sub, Object.is(scale, -0) ? '-0.0' : String(scale)])
      for (const load of ['F32', 'BF16', 'F16'] as D[]) {
        // The source is the input already in the load dtype, as torch saw it.
        const src = convertChunk(new Uint8Array(x.buffer), {sourceDtype: 'F32', loadDtype: load, outputDtype: load})
        for (const out of ['F32', 'BF16', 'F16'] as D[]) {
          const got = convertChunk(src, {sourceDtype: load, loadDtype: load, outputDtype: out, scale})
          const want = readFileSync(join(sub, `${NAMES[load]}_${NAMES[out]}.bin`))
          assert.equal(got.byteLength, want.byteLength)
          const g = out === 'F32' ? new Uint32Array(got.buffer, got.byteOffset, got.byteLength / 4) : new Uint16Array(got.buffer, got.byteOffset, got.byteLength / 2)
          const w = out === 'F32' ? new Uint32Array(want.buffer, want.byteOffset, want.byteLength / 4) : new Uint16Array(want.buffer, want.byteOffset, want.byteLength / 2)
          const isNan = (v: number): boolean => (out === 'F32' ? (v & 0x7fffffff) > 0x7f800000 : out === 'BF16' ? (v & 0x7fff) > 0x7f80 : (v & 0x7fff) > 0x7c00)
          for (let i = 0; i < g.length; i++) {
            // torch's float16 kernels (scalar and vector paths) give varying NaN bit patterns; a NaN is a NaN there.
            const bothNan = isNan(g[i] ?? 0) && isNan(w[i] ?? 0)
            if (g[i] !== w[i] && !(load === 'F16' && bothNan)) {
              assert.fail(`${load}->${out} scale ${scale}: input 0x${(x[i] ?? 0).toString(16)} gave 0x${(g[i] ?? 0).toString(16)}, torch 0x${(w[i] ?? 0).toString(16)}`)
            }
          }
        }
      }
    })
  }
})
