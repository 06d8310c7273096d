/**
 * bench/generate/step-profile: where a KV-cache step's time goes. Runs `generate` (greedy, 128 new
 * tokens from "Once upon a time", the KV cache, 1 thread) on the 24-layer bench model with ONNX
 * Runtime's profiler on (profileSessions in session.ts), and prints per cached step: the time of each op type,
 * the kernels' sum, ORT's whole run, and the rate at which the Gemm nodes read the fp32 weights,
 * beside one core's streaming-read rate over the same bytes (stream_read.py) and the wall time of
 * a no-cache token (the baseline of run.ts) measured in the same run. The ratio of that token to
 * the Gemm time alone bounds what any KV-cache step can reach on this model and CPU.
 *
 *   source scripts/setup-python.sh && node --import tsx bench/generate/step-profile.ts
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {generate} from '../../src/generate/generate.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'
import {profileSessions} from '../../src/onnx/session.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MODEL = join(ROOT, 'bench/out/curve-llama24')
const cacheDir = join(ROOT, 'bench/out/cache')
const NEW = 128
const py = process.env.DLEC_PYTHON
if (!py) {
  throw new Error('source scripts/setup-python.sh first (DLEC_PYTHON)')
}
execFileSync(py, [join(ROOT, 'bench/curve/make_model.py'), MODEL], {stdio: 'inherit'})
const promptIds = loadTokenizer(MODEL).encode('Once upon a time')
const run = (kvCache: boolean) => generate({modelDir: MODEL, cacheDir, threads: 1, promptIds, maxNewTokens: NEW, stopIds: [], kvCache})
await run(true) // graphs written, weights in the page cache
const baseline = await run(false)
const plain = await run(true)
const dir = mkdtempSync(join(tmpdir(), 'dlec-prof-'))
profileSessions(join(dir, 'step'))
await run(true)
profileSessions(undefined)

interface Event {cat?: string; name: string; dur: number; ts: number; args?: {op_name?: string}}
const file = readdirSync(dir).find((f) => f.endsWith('.json'))
if (file === undefined) {
  throw new Error(`no profile written in ${dir}`)
}
const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Event[]
rmSync(dir, {recursive: true, force: true})
const runs = events.filter((e) => e.name === 'model_run').sort((a, b) => a.ts - b.ts)
const steps = runs.slice(1) // the first run is the prompt's
const from = steps[0]?.ts ?? 0
const byOp = new Map<string, number>()
for (const e of events) {
  if (e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.ts >= from) {
    const op = e.args?.op_name ?? '?'
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur)
  }
}
const perStep = (us: number): number => us / steps.length / 1000
const kernels = [...byOp.values()].reduce((a, b) => a + b, 0)
const gemmMs = perStep(byOp.get('Gemm') ?? 0)
// The fp32 weights (the safetensors files; their headers are a few KB): what one cached step reads.
const weightBytes = readdirSync(MODEL).filter((f) => f.endsWith('.safetensors')).reduce((a, f) => a + statSync(join(MODEL, f)).size, 0)
const stream = JSON.parse(execFileSync(py, [join(ROOT, 'bench/generate/stream_read.py'), String(weightBytes)], {encoding: 'utf8'})) as {best_ms: number; gb_per_s: number}
const noCacheMs = (baseline.seconds * 1000) / NEW
const row = {
  cachedSteps: steps.length,
  opMsPerStep: Object.fromEntries([...byOp].sort((a, b) => b[1] - a[1]).map(([op, us]) => [op, Number(perStep(us).toFixed(3))])),
  kernelsMsPerStep: perStep(kernels),
  ortRunMsPerStep: perStep(steps.reduce((a, e) => a + e.dur, 0)),
  weightBytes,
  gemmGBPerS: weightBytes / (gemmMs / 1000) / 1e9,
  streamReadGBPerS: stream.gb_per_s,
  streamReadMs: stream.best_ms,
  kvCacheMsPerToken: (plain.seconds * 1000) / NEW,
  noCacheMsPerToken: noCacheMs,
  speedup: baseline.seconds / plain.seconds,
  ceilingAtGemmTime: noCacheMs / gemmMs,
  ceilingAtStreamRead: noCacheMs / stream.best_ms,
}
console.log(JSON.stringify(row))
