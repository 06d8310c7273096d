import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {evaluate} from '../../src/eval/evaluate.js'
import {GraphBuilder} from '../../src/onnx/graph-builder.js'
import {dequantizeBlocks, quantizeBlocks} from '../../src/onnx/quantize.js'
import {createSession} from '../../src/onnx/session.js'
import {GENERATED, ROOT, STORIES, python} from '../helpers/cli.js'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {maxDiffTokens, writeReferences} from './reference.js'
import {readmeParagraph} from '../eval/readme-texts.js'
import {FAMILIES} from '../helpers/families.js'

function randomMatrix(n: number, k: number, seed: number): Float32Array {
  let s = seed
  return Float32Array.from({length: n * k}, () => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return (s / 2 ** 31 - 0.5) * (s % 7 === 0 ? 8 : 1)
  })
}

const work = mkdtempSync(join(tmpdir(), 'dlec-quant-'))

describe('block quantization (MatMulNBits layout)', () => {
  for (const bits of [4, 8] as const) {
    it(`${bits}-bit: dequantized values equal a numpy reference`, () => {
      const [n, k] = [6, 96]
      const w = randomMatrix(n, k, bits)
      // Round-half-to-even vs half-away-from-zero differ only on exact .5 ties, absent from random data.
      const expected = JSON.parse(
        execFileSync(python(), [join(ROOT, 'test/python/reference_quantize.py')], {input: JSON.stringify({w: Array.from(w), n, k, bits, block: 32})}).toString(),
      ) as number[]
      const ours = dequantizeBlocks(quantizeBlocks(w, n, k, bits, 32))
      const worst = Math.max(...expected.map((e, i) => Math.abs(e - (ours[i] as number))))
      assert.ok(worst < 1e-6, `max diff ${worst}`)
    })

    it(`${bits}-bit: ONNX Runtime's MatMulNBits on the packed data equals x @ dequant(W)^T`, async () => {
      const [m, n, k] = [5, 24, 64]
      const w = randomMatrix(n, k, 11 + bits)
      const x = randomMatrix(m, k, 3)
      const qb = quantizeBlocks(w, n, k, bits, 32)
      const g = new GraphBuilder('mm')
      const xi = g.input('x', 'float', [m, k])
      const wq = g.initializer('wq', 'uint8', [n, k / 32, (32 * bits) / 8], qb.q)
      const sc = g.initializer('scales', 'float', [n * (k / 32)], new Uint8Array(qb.scales.buffer))
      const y = g.op('MatMulNBits', [xi, wq, sc], {K: k, N: n, bits, block_size: 32, accuracy_level: 0}, {domain: 'com.microsoft'})
      g.output(y, 'y', 'float', [m, n])
      const path = join(work, `mm${bits}.onnx`)
      writeFileSync(path, g.toBytes())
      const s = await createSession({path, threads: 1})
      const out = (await s.run({x: {dims: [m, k], data: x}}, ['y'])).y?.data as Float32Array
      await s.release()
      const dq = dequantizeBlocks(qb)
      let worst = 0
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          let acc = 0
          for (let t = 0; t < k; t++) {
            acc += (x[i * k + t] as number) * (dq[j * k + t] as number)
          }
          worst = Math.max(worst, Math.abs(acc - (out[i * n + j] as number)))
        }
      }
      assert.ok(worst < 1e-4, `max diff ${worst}`)
    })
  }

  it('stories260K: int8 keeps the perplexity within 0.5%, int4 within 10% (fp32 2.833)', async () => {
    const texts = [readmeParagraph()]
    const cacheDir = join(work, 'cache')
    const int8 = await evaluate({modelDir: STORIES, cacheDir, texts, quant: 'int8', threads: 1})
    const int4 = await evaluate({modelDir: STORIES, cacheDir, texts, quant: 'int4', threads: 1})
    assert.ok(Math.abs(int8.perplexity / 2.833 - 1) < 0.005, `int8 ${int8.perplexity}`)
    assert.ok(Math.abs(int4.perplexity / 2.833 - 1) < 0.1, `int4 ${int4.perplexity}`)
    assert.notEqual(int4.perplexity, int8.perplexity)
  })

  it('every family runs quantized (projections and embeddings): int8 logits within 0.05 of transformers fp32, int4 within 0.5', async () => {
    const families = FAMILIES
    const ref = writeReferences(Object.fromEntries(families.map((f) => [f, join(GENERATED, f)])))
    for (const f of families) {
      const r = ref(f)
      for (const [quant, tol] of [['int8', 0.05], ['int4', 0.5]] as const) {
        const dec = await openDecoder({modelDir: join(GENERATED, f), cacheDir: join(work, 'cache'), quant, threads: 1})
        try {
          const out = await dec.run({inputIds: r.ids, outputs: {logits: 'all'}})
          const d = maxDiffTokens(out.outputs.logits?.data as Float32Array, r.read('logits'), r.lengths, dec.spec.vocab)
          assert.ok(d < tol, `${f} ${quant}: max |diff| ${d}`)
          assert.ok(d > 0, `${f} ${quant}: quantization changed nothing`)
        } finally {
          await dec.release()
        }
      }
    }
  })
})
