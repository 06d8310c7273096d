/**
 * Weight-cache build rate of a format vs the rate of reading the source bytes: first reads every
 * safetensors file of MODEL_DIR in 16 MiB chunks (the floor a build cannot beat; page cache warm
 * after the first pass), then builds FORMAT into a fresh cache folder on every core and times it.
 * Prints one JSON line.
 *
 * usage: node --import tsx bench/quant/build-rate.ts MODEL_DIR [FORMAT=w8a8] [WORKERS]
 */
import {closeSync, mkdtempSync, openSync, readSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {readWeightFiles} from '../../src/model/weight-files.js'
import {prepareWeightStoreIter, type WeightFormat} from '../../src/onnx/weight-store.js'

const [modelDir, format = 'w8a8', workers] = process.argv.slice(2)
const files = await readWeightFiles(modelDir as string)
const buf = Buffer.alloc(16 * 1024 * 1024)
let bytes = 0
const t0 = performance.now()
for (const f of files.files) {
  const fd = openSync(f, 'r')
  for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
    bytes += n
  }
  closeSync(fd)
}
const readSeconds = (performance.now() - t0) / 1000
const cacheDir = mkdtempSync(join(tmpdir(), 'dlec-build-'))
// the Llama tensors open-decoder quantizes: the projections and the head, the embeddings as blocks
const t1 = performance.now()
const it = prepareWeightStoreIter({
  files,
  cacheDir,
  format: format as WeightFormat,
  quantize: new Set([...files.tensors.keys()].filter((n) => /proj|lm_head/.test(n))),
  gather: new Set([...files.tensors.keys()].filter((n) => /embed_tokens/.test(n))),
  workers: workers === undefined ? undefined : Number(workers),
})
let r = await it.next()
while (r.done !== true) {
  r = await it.next()
}
const buildSeconds = (performance.now() - t1) / 1000
console.log(
  JSON.stringify({format, source_mb: Math.round(bytes / 1e6), read_mb_s: Math.round(bytes / 1e6 / readSeconds), build_s: +buildSeconds.toFixed(1), build_mb_s: Math.round(bytes / 1e6 / buildSeconds), cache_mb: Math.round(r.value.bytes / 1e6), workers: workers ?? 'all cores'}),
)
rmSync(cacheDir, {recursive: true, force: true})
