/**
 * How ONNX Runtime holds a model's weights: opens MODEL_DIR's decoder in FORMAT, runs one short
 * forward, then reads /proc/self/smaps: resident anonymous vs file-backed memory, and the largest
 * single anonymous mapping (a planned initializer buffer would be about the size of the weights;
 * memory-mapped external data shows up as file-backed instead). Prints one JSON line.
 *
 * usage: node --import tsx bench/quant/session-memory.ts MODEL_DIR [FORMAT=fp32] [THREADS=2]
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import type {QuantChoice} from '../../src/onnx/weight-format.js'

const [modelDir, format = 'fp32', threads = '2'] = process.argv.slice(2)
const cacheDir = process.env.DLEC_BENCH_CACHE ?? mkdtempSync(join(tmpdir(), 'dlec-mem-'))
const dec = await openDecoder({modelDir: modelDir as string, cacheDir, quant: format as QuantChoice, threads: Number(threads)})
await dec.run({inputIds: [[1, 5, 9, 13, 17, 21, 25, 29]], outputs: {logits: 'all'}})
let anon = 0
let file = 0
let largestAnon = 0
let current = {anon: true, size: 0}
for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
  const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(line)
  if (head) {
    current = {anon: head[1] === '0' || head[2] === '' || head[2]?.startsWith('[') === true, size: 0}
    continue
  }
  const rss = /^Rss:\s+(\d+) kB/.exec(line)
  if (rss) {
    const kb = Number(rss[1])
    if (current.anon) {
      anon += kb
      largestAnon = Math.max(largestAnon, kb)
    } else {
      file += kb
    }
  }
}
console.log(JSON.stringify({format: dec.weightFormat.format, rss_anon_mb: Math.round(anon / 1024), rss_file_mb: Math.round(file / 1024), largest_anon_mapping_rss_mb: Math.round(largestAnon / 1024), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024)}))
await dec.release()
