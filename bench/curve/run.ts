/**
 * bench/curve: a full single-layer duplication sweep (each of the 24 layers of a generated Llama run
 * twice, one candidate at a time) measured two ways on the same rows, with the same open decoder
 * (its per-layer sessions are created once, before timing):
 *   cached - each candidate starts from the cached hidden state before its first new layer;
 *   naive  - each candidate runs the whole sequence from the token ids.
 * Each timing covers the evaluator's setup pass over the original plus the 24 measurements. Runs
 * alternate (naive, cached, …) so load from other processes hits both; medians are reported, and the
 * two sweeps' KL values are checked to agree.
 *
 *   source scripts/setup-python.sh && node --import tsx bench/curve/run.ts [repeats=3] [threads=1]
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createCurveEvaluator} from '../../src/curve/curve-evaluator.js'
import {tokenWindows} from '../../src/eval/token-windows.js'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {expandLayers} from '../../src/curve/layer-plan.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MODEL = join(ROOT, 'bench/out/curve-llama24')
const repeats = Number(process.argv[2] ?? 3)
const threads = Number(process.argv[3] ?? 1)
const py = process.env.DLEC_PYTHON
if (!py) {
  throw new Error('source scripts/setup-python.sh first (DLEC_PYTHON)')
}
execFileSync(py, [join(ROOT, 'bench/curve/make_model.py'), MODEL], {stdio: 'inherit'})
const texts = readFileSync(join(ROOT, 'test/curve/heldout.txt'), 'utf8').split(/\n\s*\n/)
const rows = tokenWindows({tokenizer: loadTokenizer(MODEL), texts, windowSize: 128}).rows
const batches = [rows]
const decoder = await openDecoder({modelDir: MODEL, cacheDir: join(ROOT, 'bench/out/cache'), threads, maxSessions: 32})
const n = decoder.spec.numLayers
const candidates = Array.from({length: n}, (_, l) => expandLayers(n, [{start: l, end: l + 1}]))

async function sweep(prefixCache: boolean): Promise<{ms: number; kl: number[]; layersRun: number; tokens: number}> {
  const t0 = performance.now()
  const ev = await createCurveEvaluator({decoder, batches, prefixCache})
  const kl: number[] = []
  for (const c of candidates) {
    kl.push((await ev.measure(c)).kl)
  }
  return {ms: performance.now() - t0, kl, layersRun: ev.layersRun, tokens: ev.tokens}
}

await sweep(true) // warm-up: every session created
await sweep(false)
const naive: number[] = []
const cached: number[] = []
let maxDiff = 0
let last: {n?: Awaited<ReturnType<typeof sweep>>; c?: Awaited<ReturnType<typeof sweep>>} = {}
for (let i = 0; i < repeats; i++) {
  const a = await sweep(false)
  const b = await sweep(true)
  naive.push(a.ms)
  cached.push(b.ms)
  a.kl.forEach((k, j) => {
    maxDiff = Math.max(maxDiff, Math.abs(k - (b.kl[j] as number)))
  })
  last = {n: a, c: b}
}
await decoder.release()
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
const s = (ms: number): string => (ms / 1000).toFixed(2)
console.log(`model: generated 24-layer Llama (hidden 256, FFN 688, vocab 512); ${last.c?.tokens} predicted tokens in ${rows.length} rows; ${candidates.length} candidates; ${threads} thread(s)`)
console.log(`naive  (full forwards from the tokens): median ${s(median(naive))} s  [${naive.map(s).join(', ')}]  layer runs ${last.n?.layersRun}`)
console.log(`cached (prefix states reused):          median ${s(median(cached))} s  [${cached.map(s).join(', ')}]  layer runs ${last.c?.layersRun}`)
console.log(`ratio cached/naive: ${(median(cached) / median(naive)).toFixed(3)}   max |ΔKL| between the sweeps: ${maxDiff.toExponential(2)}`)
