import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {
  bf16ToF32Bits,
  dtypeFromTorchName,
  f16ToF32Bits,
  f32BitsToBf16,
  f32BitsToF16,
  float32Bits,
  SAFETENSORS_DTYPES,
} from '../../src/safetensors/dtype.js'
import {python, ROOT} from '../helpers/cli.js'

/** float32 bit patterns that cover every rounding case: edges, ties, subnormals, NaNs, randoms. */
function samplePatterns(): Uint32Array {
  const out: number[] = []
  const specials = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff, 0xffffffff, 1, 0x80000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff]
  out.push(...specials)
  for (const v of [65504, 65519.99, 65520, 65536, 6.1e-5, 6.103515625e-5, 5.96e-8, 2.98e-8, 1e-10, 1, -1, 0.1, 3.14159, 1e38, -1e-40]) {
    out.push(float32Bits(v))
  }
  // Every exponent with mantissa low bits at and around both rounding points (bf16: 16 bits, f16: 13 bits).
  for (let exp = 0; exp < 256; exp++) {
    for (const sign of [0, 0x80000000]) {
      for (const low of [0, 1, 0x0fff, 0x1000, 0x1001, 0x1fff, 0x2000, 0x3000, 0x7fff, 0x8000, 0x8001, 0xffff, 0x10000, 0x18000, 0x7fffff, 0x7f8000, 0x7fe000]) {
        out.push((sign | (exp << 23) | low) >>> 0)
      }
    }
  }
  let seed = 12345
  for (let i = 0; i < 200_000; i++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
    out.push(seed)
  }
  return Uint32Array.from(out)
}

describe('dtype conversions match torch .to() bit for bit', () => {
  let dir = ''
  const input = samplePatterns()
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dlec-dtype-'))
    writeFileSync(join(dir, 'in.bin'), new Uint8Array(input.buffer))
    execFileSync(python(), [join(ROOT, 'test/python/dtype_reference.py'), join(dir, 'in.bin'), dir])
  })
  after(() => rmSync(dir, {recursive: true, force: true}))
  const u16 = (name: string): Uint16Array => {
    const b = readFileSync(join(dir, name))
    return new Uint16Array(b.buffer, b.byteOffset, b.byteLength / 2)
  }
  const u32 = (name: string): Uint32Array => {
    const b = readFileSync(join(dir, name))
    return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4)
  }
  const compare = (label: string, expected: ArrayLike<number>, actual: (i: number) => number, arg: (i: number) => number): void => {
    assert.ok(expected.length > 0)
    for (let i = 0; i < expected.length; i++) {
      const got = actual(i)
      if (got !== expected[i]) {
        assert.fail(`${label}: input 0x${arg(i).toString(16)} -> 0x${got.toString(16)}, torch 0x${(expected[i] ?? 0).toString(16)}`)
      }
    }
  }
  it(`float32 -> bfloat16 on ${input.length} patterns`, () => {
    compare('bf16', u16('to_bf16.bin'), (i) => f32BitsToBf16(input[i] ?? 0), (i) => input[i] ?? 0)
  })
  it(`float32 -> float16 on ${input.length} patterns`, () => {
    compare('f16', u16('to_f16.bin'), (i) => f32BitsToF16(input[i] ?? 0), (i) => input[i] ?? 0)
  })
  it('every bfloat16 and float16 pattern -> float32', () => {
    compare('from bf16', u32('from_bf16.bin'), (i) => bf16ToF32Bits(i), (i) => i)
    // torch quiets signalling NaNs when widening half; dlec keeps payloads: compare NaNs as NaN.
    const fromF16 = u32('from_f16.bin')
    compare('from f16', fromF16, (i) => {
      const got = f16ToF32Bits(i)
      return (got & 0x7fffffff) > 0x7f800000 && ((fromF16[i] ?? 0) & 0x7fffffff) > 0x7f800000 ? (fromF16[i] ?? 0) : got
    }, (i) => i)
  })
})

describe('dtype table', () => {
  it('knows mergekit dtype names and element sizes', () => {
    assert.equal(dtypeFromTorchName('bfloat16'), 'BF16')
    assert.equal(dtypeFromTorchName('torch.float16'), 'F16')
    assert.equal(dtypeFromTorchName('float32'), 'F32')
    assert.equal(dtypeFromTorchName('int64'), 'I64')
    assert.equal(dtypeFromTorchName('bfloat'), undefined)
    assert.equal(SAFETENSORS_DTYPES.BF16.bytes, 2)
    assert.equal(SAFETENSORS_DTYPES.F32.onnx, 1)
    assert.equal(SAFETENSORS_DTYPES.BF16.onnx, 16)
    assert.ok(SAFETENSORS_DTYPES.F32.rank > SAFETENSORS_DTYPES.BF16.rank)
  })
})
