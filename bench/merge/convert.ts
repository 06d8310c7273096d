/**
 * Throughput of the native engine's per-element conversion (dtype change and/or `scale`), the
 * path a merge takes when the YAML converts or scales a tensor (raw copies skip it):
 *
 *   node --import tsx bench/merge/convert.ts
 *
 * Random bits (so some NaNs and subnormals), 16 MB chunks as the engine streams them, after a
 * warm-up chunk; MB/s of input bytes.
 */
import {randomFillSync} from 'node:crypto'
import {performance} from 'node:perf_hooks'
import {convertChunk, type Conversion} from '../../src/merge/convert-chunk.js'

const CHUNK = 16 * 1024 * 1024
const buf = new Uint8Array(4 * CHUNK)
randomFillSync(buf)
const cases: Conversion[] = [
  {sourceDtype: 'BF16', loadDtype: 'BF16', outputDtype: 'BF16', scale: 0.5},
  {sourceDtype: 'BF16', loadDtype: 'BF16', outputDtype: 'F16'},
  {sourceDtype: 'F32', loadDtype: 'BF16', outputDtype: 'BF16'},
  {sourceDtype: 'F32', loadDtype: 'F32', outputDtype: 'F32', scale: 0.5},
]
for (const c of cases) {
  convertChunk(buf.subarray(0, 1 << 20), c)
  const start = performance.now()
  for (let k = 0; k < 4; k++) {
    convertChunk(buf.subarray(k * CHUNK, (k + 1) * CHUNK), c)
  }
  const seconds = (performance.now() - start) / 1000
  const what = `${c.sourceDtype} -> ${c.loadDtype} -> ${c.outputDtype}${c.scale === undefined ? '' : ` x ${c.scale}`}`
  console.log(`| ${what} | ${(buf.byteLength / 1e6 / seconds).toFixed(0)} MB/s |`)
}
