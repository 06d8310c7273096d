import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {ModelError} from '../../src/errors.js'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {readWeightFiles} from '../../src/onnx/weight-files.js'
import {GENERATED} from '../helpers/cli.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-store-'))
const IDS = [
  [5, 9, 100, 7, 300],
  [11, 12],
]

async function logits(modelDir: string, quant: 'fp32' | 'int4', chunkBytes: number | undefined, cache: string): Promise<Float32Array> {
  const dec = await openDecoder({modelDir, cacheDir: join(work, cache), quant, chunkBytes, threads: 1})
  try {
    return (await dec.run({inputIds: IDS, outputs: {logits: 'all'}})).outputs.logits?.data as Float32Array
  } finally {
    await dec.release()
  }
}

describe('weight store', () => {
  for (const quant of ['fp32', 'int4'] as const) {
    it(`bf16 -> ${quant} conversion in tiny chunks equals whole-tensor conversion`, async () => {
      const dir = join(GENERATED, 'llama-bf16')
      const whole = await logits(dir, quant, undefined, `whole-${quant}`)
      const chunked = await logits(dir, quant, 96, `chunked-${quant}`)
      assert.deepEqual(chunked, whole)
    })
  }

  it('a NaN deep inside a tensor is found (chunked) and named with its element index', async () => {
    const dir = join(work, 'nan')
    cpSync(join(GENERATED, 'llama'), dir, {recursive: true})
    const t = (await readWeightFiles(dir)).tensors.get('model.embed_tokens.weight')
    assert.ok(t)
    const bytes = readFileSync(t.file)
    bytes.writeFloatLE(Number.POSITIVE_INFINITY, t.offset + 4 * 5000)
    writeFileSync(t.file, bytes)
    await assert.rejects(
      openDecoder({modelDir: dir, cacheDir: join(work, 'nan-cache'), chunkBytes: 200}),
      (e: unknown) => e instanceof ModelError && /tensor model\.embed_tokens\.weight contains Infinity at element 5000/.test(e.message),
    )
  })
})
