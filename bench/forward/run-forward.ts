/**
 * dlec side of bench/forward: tokens/s and peak RSS of a forward pass through dlec's ONNX graph on
 * random token ids (same generator seed semantics as the transformers side is not needed: timing
 * does not depend on the ids). Prints one JSON line. Weights are prepared (converted / quantized) in
 * the cache on first use, outside the timed part; peak RSS is the whole process's.
 *
 * usage: [DLEC_BENCH_QUANT=int4] [DLEC_BENCH_PREPACK=1] node --import tsx bench/forward/run-forward.ts MODEL_DIR BATCH SEQ THREADS REPEATS [layers] [outputs]
 *   outputs: logits (default) | profile (norms + cosines up to 8 apart, no logits)
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {openDecoder} from '../../src/onnx/open-decoder.js'

const [modelDir, b, s, th, rep, layerArg, outArg] = process.argv.slice(2)
const batch = Number(b)
const seq = Number(s)
const threads = Number(th)
const repeats = Number(rep)
const cacheDir = process.env.DLEC_BENCH_CACHE ?? mkdtempSync(join(tmpdir(), 'dlec-bench-'))
const t0 = performance.now()
const quant = (process.env.DLEC_BENCH_QUANT ?? 'fp32') as 'fp32' | 'int8' | 'int4'
const prepack = process.env.DLEC_BENCH_PREPACK === '1' // weight pre-packing for every format (an A/B of it)
const dec = await openDecoder({modelDir: modelDir as string, cacheDir, threads, quant, prepack})
const layers = layerArg && layerArg !== '-' ? layerArg.split(',').map(Number) : undefined
const outputs = outArg === 'profile' ? {logits: 'none' as const, reduced: {gaps: 8}} : {logits: 'all' as const}
let seed = 1
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31
  return seed
}
const ids = Array.from({length: batch}, () => Array.from({length: seq}, () => 3 + (rand() % (dec.spec.vocab - 3))))
await dec.run({inputIds: ids.map((r) => r.slice(0, 16)), layers, outputs})
const openSeconds = (performance.now() - t0) / 1000
let best = Number.POSITIVE_INFINITY
for (let i = 0; i < repeats; i++) {
  const t = performance.now()
  await dec.run({inputIds: ids, layers, outputs})
  best = Math.min(best, (performance.now() - t) / 1000)
}
const rssMb = process.resourceUsage().maxRSS / 1024
console.log(JSON.stringify({engine: 'dlec', quant, prepack, outputs: outArg ?? 'logits', layers: layers?.length ?? dec.spec.numLayers, tokens_per_s: (batch * seq) / best, seconds: best, open_seconds: openSeconds, peak_rss_mb: rssMb}))
await dec.release()
