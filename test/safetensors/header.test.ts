import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {SafetensorsParseError} from '../../src/errors.js'
import {MAX_HEADER_BYTES, parseSafetensorsHeader} from '../../src/safetensors/header.js'
import {f32Tensor, safetensorsBytes} from '../helpers/safetensors-file.js'

const parse = (bytes: Uint8Array, size = bytes.byteLength) => parseSafetensorsHeader(bytes, size, 'x.safetensors')
const rejects = (bytes: Uint8Array, pattern: RegExp, size = bytes.byteLength): void => {
  assert.throws(() => parse(bytes, size), (error: unknown) => {
    assert.ok(error instanceof SafetensorsParseError, `expected SafetensorsParseError, got ${String(error)}`)
    assert.match(error.message, /^x\.safetensors: /)
    assert.match(error.message, pattern)
    return true
  })
}

describe('parseSafetensorsHeader', () => {
  it('reads tensors in offset order with absolute data start', () => {
    const bytes = safetensorsBytes([f32Tensor('b', [2, 3]), f32Tensor('a', [4])])
    const header = parse(bytes)
    assert.deepEqual(header.metadata, {format: 'pt'})
    assert.deepEqual(header.tensors.map((t) => [t.name, t.dtype, t.shape, t.begin, t.end]), [
      ['b', 'F32', [2, 3], 0, 24],
      ['a', 'F32', [4], 24, 40],
    ])
    assert.equal(header.dataStart + 40, bytes.byteLength)
    assert.equal(header.dataStart % 8, 0)
  })

  it('accepts scalars and empty tensors', () => {
    const header = parse(safetensorsBytes([f32Tensor('s', []), f32Tensor('e', [0, 5])]))
    assert.deepEqual(header.tensors.map((t) => t.end - t.begin), [4, 0])
  })

  it('rejects header lengths beyond the file and the limit', () => {
    const bytes = safetensorsBytes([f32Tensor('w', [2])])
    const view = new DataView(bytes.buffer)
    view.setBigUint64(0, BigInt(bytes.byteLength), true)
    rejects(bytes, /runs past the end of the \d+-byte file/)
    view.setBigUint64(0, BigInt(MAX_HEADER_BYTES) + 1n, true)
    rejects(bytes, /exceeds the 100000000-byte limit/)
    view.setBigUint64(0, 0xffffffffffffffffn, true)
    rejects(bytes, /exceeds/)
    rejects(new Uint8Array(5), /too short/)
  })

  it('rejects truncated data, gaps, overlaps and offsets outside the file', () => {
    const ok = safetensorsBytes([f32Tensor('a', [2]), f32Tensor('b', [2])])
    rejects(ok.subarray(0, ok.byteLength - 1), /tensor b ends at data offset 16, past the 15-byte data section/)
    const longer = new Uint8Array(ok.byteLength + 4)
    longer.set(ok)
    rejects(longer, /4 bytes after the last tensor are not described/)
    const offsets = (a: number[], b: number[]) =>
      safetensorsBytes([f32Tensor('a', [2]), f32Tensor('b', [2])], (h) => {
        ;(h.a as {data_offsets: number[]}).data_offsets = a
        ;(h.b as {data_offsets: number[]}).data_offsets = b
      })
    rejects(offsets([0, 8], [4, 12]), /tensor b at data offset 4 overlaps the previous tensor/)
    rejects(offsets([0, 8], [12, 20]), /tensor b at data offset 12 leaves a gap after byte 8/)
    rejects(offsets([0, 8], [8, 1e12]), /tensor "b": shape \[2\] of F32 needs 8 bytes but data_offsets give/)
    rejects(offsets([8, 0], [8, 16]), /tensor "a": data_offsets \[8, 0\] end before they begin/)
    rejects(offsets([0, 8], [-8, 0]), /tensor "b": data_offsets must be two non-negative integers/)
  })

  it('rejects bad dtypes, shapes, JSON and metadata, naming the tensor', () => {
    const patched = (patch: (h: Record<string, unknown>) => void) => safetensorsBytes([f32Tensor('w', [2])], patch)
    const w = (h: Record<string, unknown>) => h.w as Record<string, unknown>
    rejects(patched((h) => (w(h).dtype = 'F7')), /tensor "w": unknown dtype "F7"/)
    rejects(patched((h) => (w(h).shape = [1, 3])), /tensor "w": shape \[1, 3\] of F32 needs 12 bytes but data_offsets give 8/)
    rejects(patched((h) => (w(h).shape = [4])), /tensor "w": shape \[4\] of F32 needs 16 bytes but data_offsets give 8/)
    rejects(patched((h) => (w(h).shape = [2.5])), /tensor "w": shape must be a list/)
    rejects(patched((h) => (w(h).shape = Array.from({length: 17}, () => 1))), /at most 16/)
    rejects(patched((h) => (h.__metadata__ = {format: 1})), /__metadata__\.format is not a string/)
    rejects(patched((h) => (h.w = [1])), /tensor "w": entry is not an object/)
    const notJson = safetensorsBytes([])
    notJson.set(new TextEncoder().encode('{"a":'), 8)
    rejects(notJson, /header is not valid JSON|not a JSON object/)
    const notObject = safetensorsBytes([])
    notObject.set(new TextEncoder().encode('[1]     '), 8)
    rejects(notObject, /does not start with '\{'/)
  })

  it('never throws anything but SafetensorsParseError on corrupted bytes (fuzz)', () => {
    const base = safetensorsBytes([f32Tensor('model.layers.0.w', [3, 2]), f32Tensor('b', [1])])
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.byteLength - 1), fc.integer({min: 0, max: 255})), {minLength: 1, maxLength: 8}),
        fc.nat(base.byteLength),
        (edits, cut) => {
          const bytes = base.slice(0, Math.max(cut, base.byteLength - 24))
          for (const [at, value] of edits) {
            if (at < bytes.byteLength) {
              bytes[at] = value
            }
          }
          try {
            const header = parse(bytes)
            // Anything accepted must tile the file exactly.
            const end = header.tensors.reduce((max, t) => Math.max(max, t.end), 0)
            assert.equal(header.dataStart + end, bytes.byteLength)
          } catch (error) {
            assert.ok(error instanceof SafetensorsParseError, String(error))
          }
        },
      ),
      {numRuns: 2000, seed: 7},
    )
  })
})
