import assert from 'node:assert/strict'
import {cpSync, mkdtempSync, openSync, rmSync, writeSync, closeSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {readWeightFiles} from '../../src/model/weight-files.js'
import {STORIES} from '../helpers/cli.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-cache-key-'))
after(() => rmSync(work, {recursive: true, force: true}))
const IDS = [[1, 403, 407, 261, 378]]

async function logits(modelDir: string, cache: string): Promise<Float32Array> {
  const dec = await openDecoder({modelDir, cacheDir: join(work, cache), threads: 1})
  try {
    return (await dec.run({inputIds: IDS, outputs: {logits: 'all'}})).outputs.logits?.data as Float32Array
  } finally {
    await dec.release()
  }
}

describe('weight cache key', () => {
  it('two folders with identical safetensors headers but different weights never share cached weights', async () => {
    const a = join(work, 'a')
    const b = join(work, 'b')
    cpSync(STORIES, a, {recursive: true})
    cpSync(STORIES, b, {recursive: true})
    // Same header, same sizes: only the bytes of the final norm differ (every weight set to 2.0).
    const norm = (await readWeightFiles(b)).tensors.get('model.norm.weight')
    assert.ok(norm)
    const fd = openSync(norm.file, 'r+')
    const twos = new Float32Array(norm.byteLength / 4).fill(2)
    writeSync(fd, Buffer.from(twos.buffer), 0, norm.byteLength, norm.offset)
    closeSync(fd)

    const fromA = await logits(a, 'shared')
    const fromB = await logits(b, 'shared')
    const fromBFresh = await logits(b, 'fresh')
    assert.notDeepEqual(fromB, fromA, 'model b was evaluated with model a cached weights')
    assert.deepEqual(fromB, fromBFresh)
  })
})
