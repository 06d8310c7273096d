/**
 * A second process for weight-cache tests: opens MODEL_DIR's decoder in FORMAT with CACHE_DIR,
 * runs two fixed rows and prints the sha256 of the logits' bytes.
 * usage: node --import tsx test/helpers/decoder-child.ts MODEL_DIR CACHE_DIR FORMAT
 */
import {createHash} from 'node:crypto'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import type {QuantChoice} from '../../src/onnx/weight-format.js'

const [modelDir, cacheDir, quant] = process.argv.slice(2) as [string, string, QuantChoice]
const dec = await openDecoder({modelDir, cacheDir, quant, threads: 1, chunkBytes: 4096})
const logits = (await dec.run({inputIds: [[5, 9, 100, 7, 300], [11, 12]], outputs: {logits: 'all'}})).outputs.logits?.data as Float32Array
await dec.release()
console.log(createHash('sha256').update(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength)).digest('hex'))
