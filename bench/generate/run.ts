/**
 * bench/generate: tokens/s of `generate` (greedy, 128 new tokens from "Once upon a time") on the
 * 24-layer bench model of bench/curve (random Llama, hidden 256, vocab 512), three ways in one run:
 *   dlec kv-cache  - the KV-cache graph: the prompt once, then one token per step;
 *   dlec no-cache  - the baseline: the whole sequence again for every token (the non-cache graph);
 *   transformers   - `generate` with its own KV cache, bf16 and fp32, on the same threads (peer).
 * Also the same from a 128-token prompt (the start of fixtures/calibration/stories.txt),
 * and with a zero-copy expansion (layers 8-15 run twice, 32 layers). Each timing covers
 * the whole generation (prompt pass included; sessions are opened before). dlec runs alternate
 * (no-cache, kv-cache, ...) so load from other processes hits both; medians are reported, and the
 * two modes' tokens are checked to be equal. Besides wall-clock rates, CPU-time rates (tokens per
 * CPU second of the whole process) are reported: on a shared machine they show the work done
 * rather than the time spent waiting for a core.
 *
 *   source scripts/setup-python.sh && node --import tsx bench/generate/run.ts [repeats=3] [threads=1]
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {generate, type GenerateReport} from '../../src/generate/generate.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MODEL = join(ROOT, 'bench/out/curve-llama24')
const cacheDir = join(ROOT, 'bench/out/cache')
const repeats = Number(process.argv[2] ?? 3)
const threads = Number(process.argv[3] ?? 1)
const NEW = 128
const py = process.env.DLEC_PYTHON
if (!py) {
  throw new Error('source scripts/setup-python.sh first (DLEC_PYTHON)')
}
execFileSync(py, [join(ROOT, 'bench/curve/make_model.py'), MODEL], {stdio: 'inherit'})
const tokenizer = loadTokenizer(MODEL)
const shortPrompt = tokenizer.encode('Once upon a time')
const longPrompt = tokenizer.encode(readFileSync(join(ROOT, 'fixtures/calibration/stories.txt'), 'utf8')).slice(0, 128)
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number
const expanded = [...Array.from({length: 16}, (_, i) => i), ...Array.from({length: 8}, (_, i) => 8 + i), ...Array.from({length: 8}, (_, i) => 16 + i)]

const once = async (kvCache: boolean, promptIds: number[], layers?: number[]): Promise<GenerateReport & {cpuTokensPerSecond: number}> => {
  const cpu = process.cpuUsage()
  const r = await generate({modelDir: MODEL, cacheDir, threads, promptIds, maxNewTokens: NEW, stopIds: [], kvCache, layers})
  const used = process.cpuUsage(cpu)
  return {...r, cpuTokensPerSecond: r.tokens.length / ((used.user + used.system) / 1e6)}
}

const rows: Record<string, unknown>[] = []
const configs: [string, number[], number[] | undefined][] = [
  ['24 layers', shortPrompt, undefined],
  ['24 layers, 128-token prompt', longPrompt, undefined],
  ['32 layers (8-15 twice, zero-copy)', shortPrompt, expanded],
]
for (const [label, promptIds, layers] of configs) {
  await once(true, promptIds, layers) // warm-up: graphs written, weights in the page cache
  await once(false, promptIds, layers)
  const tps: Record<'kv' | 'full' | 'kvCpu' | 'fullCpu', number[]> = {kv: [], full: [], kvCpu: [], fullCpu: []}
  let same = true
  let ids: number[] = []
  for (let i = 0; i < repeats; i++) {
    const full = await once(false, promptIds, layers)
    const kv = await once(true, promptIds, layers)
    tps.full.push(full.tokensPerSecond)
    tps.kv.push(kv.tokensPerSecond)
    tps.fullCpu.push(full.cpuTokensPerSecond)
    tps.kvCpu.push(kv.cpuTokensPerSecond)
    same &&= full.tokens.join() === kv.tokens.join() && kv.tokens.length === NEW
    ids = kv.tokens
  }
  const row = {model: label, threads, newTokens: NEW, promptTokens: promptIds.length, kvCacheTokensPerS: median(tps.kv), noCacheTokensPerS: median(tps.full), speedup: median(tps.kv) / median(tps.full), cpuSpeedup: median(tps.kvCpu) / median(tps.fullCpu), sameTokens: same, runs: tps}
  rows.push(row)
  console.log(JSON.stringify(row))
  if (label === '24 layers') {
    const out = execFileSync(py, [join(ROOT, 'bench/generate/transformers_generate.py'), MODEL, promptIds.join(','), String(NEW), String(threads), String(repeats)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})
    for (const line of out.trim().split('\n')) {
      const t = JSON.parse(line) as {engine: string; tokens_per_s: number; cpu_tokens_per_s: number; ids: number[]}
      const r = {
        engine: t.engine,
        tokensPerS: t.tokens_per_s,
        cpuTokensPerS: t.cpu_tokens_per_s,
        dlecKvVsThis: median(tps.kv) / t.tokens_per_s,
        dlecKvVsThisCpu: median(tps.kvCpu) / t.cpu_tokens_per_s,
        sameTokensAsDlec: t.ids.join() === ids.join(),
      }
      rows.push(r)
      console.log(JSON.stringify(r))
    }
  }
}
