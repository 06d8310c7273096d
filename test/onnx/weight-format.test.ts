import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseCpuInfo, type CpuFeatures} from '../../src/onnx/cpu-features.js'
import {chooseWeightFormat, FP32_AUTO_LIMIT_BYTES} from '../../src/onnx/weight-format.js'
import {UsageError} from '../../src/errors.js'

const VNNI = parseCpuInfo('model name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512bw avx512_vnni avx512_bf16\n', 'x', 2)
const AMX = parseCpuInfo('model name\t: Intel Xeon\nflags\t\t: avx2 avx512f avx512bw avx512_vnni amx_tile amx_int8 amx_bf16\n', 'x', 2)
const AVX2: CpuFeatures = parseCpuInfo('flags\t: sse4_2 avx2 fma\n', 'Old CPU', 2)
// Llama-2-7B in bf16: 6.61e9 elements in projections + head, 1.31e8 in the embeddings, the rest small.
const SEVEN_B = [
  {dtype: 'BF16' as const, elements: 6.61e9},
  {dtype: 'BF16' as const, elements: 1.31e8},
  {dtype: 'BF16' as const, elements: 2.7e5},
]
const QUANTIZED = 6.61e9 + 1.31e8

describe('CPU features', () => {
  it('reads the int8 dot-product flags from /proc/cpuinfo text and never assumes them', () => {
    assert.deepEqual([VNNI.known, VNNI.avx512Vnni, VNNI.amxInt8, VNNI.avx512Bf16, VNNI.model], [true, true, false, true, 'AMD EPYC'])
    assert.deepEqual([AMX.avx512Vnni, AMX.amxInt8], [true, true])
    assert.deepEqual([AVX2.avx2, AVX2.avx512Vnni, AVX2.avxVnni, AVX2.amxInt8], [true, false, false, false])
    const none = parseCpuInfo('', 'unknown', 1)
    assert.equal(none.known, false)
    assert.equal(none.avx2, false)
  })
})

describe('chooseWeightFormat', () => {
  it('auto: a 7B bf16 model gets w8a8 on a VNNI or AMX CPU, int4 without int8 dot products, and says why', () => {
    for (const cpu of [VNNI, AMX]) {
      const d = chooseWeightFormat({tensors: SEVEN_B, quantizedElements: QUANTIZED, cpu})
      assert.equal(d.format, 'w8a8')
      assert.match(d.reason, /13\.5 GB of bf16 weights would be 27\.0 GB as float32, over the 2\.0 GB fp32 limit/)
      assert.match(d.reason, /--quant fp32 would take 27\.0 GB on disk/)
      assert.ok(Math.abs(d.cacheBytes - (QUANTIZED + 2.7e5 * 4)) < 1)
    }
    assert.match(chooseWeightFormat({tensors: SEVEN_B, quantizedElements: QUANTIZED, cpu: VNNI}).reason, /AVX-512 VNNI.*\(no AMX\)/)
    const old = chooseWeightFormat({tensors: SEVEN_B, quantizedElements: QUANTIZED, cpu: AVX2})
    assert.equal(old.format, 'int4')
    assert.match(old.reason, /no int8 dot-product instructions/)
  })

  it('auto: a model within the limit runs fp32; an fp32 checkpoint costs no disk', () => {
    const small = chooseWeightFormat({tensors: [{dtype: 'F32', elements: 260_000}], quantizedElements: 200_000, cpu: VNNI})
    assert.deepEqual([small.format, small.cacheBytes], ['fp32', 0])
    assert.match(small.reason, /no copy/)
    const edge = chooseWeightFormat({tensors: [{dtype: 'BF16', elements: FP32_AUTO_LIMIT_BYTES / 4}], quantizedElements: 1, cpu: VNNI})
    assert.equal(edge.format, 'fp32')
    const over = chooseWeightFormat({tensors: [{dtype: 'BF16', elements: FP32_AUTO_LIMIT_BYTES / 4 + 1}], quantizedElements: 1, cpu: VNNI})
    assert.equal(over.format, 'w8a8')
  })

  it('--quant fp32 on a bf16 model is honoured and names the size of the copy', () => {
    const d = chooseWeightFormat({requested: 'fp32', tensors: SEVEN_B, quantizedElements: QUANTIZED, cpu: VNNI})
    assert.equal(d.format, 'fp32')
    assert.match(d.reason, /an fp32 copy of the bf16 weights, 27\.0 GB in the weight cache/)
    assert.equal(chooseWeightFormat({requested: 'int4', tensors: SEVEN_B, quantizedElements: QUANTIZED, cpu: VNNI}).format, 'int4')
    assert.throws(() => chooseWeightFormat({requested: 'fp8' as never, tensors: SEVEN_B, quantizedElements: 0, cpu: VNNI}), UsageError)
  })
})
