/**
 * Prints the markdown tables of bench/scale from its results.jsonl (the last line of each step wins).
 *
 *   node --import tsx bench/scale/report.ts bench/out/scale/results.jsonl
 */
import {readFileSync} from 'node:fs'
import {cpus, totalmem} from 'node:os'

interface Line {
  step: string
  cmd?: string
  seconds?: number
  max_rss_mb?: number
  exit?: number
  date?: string
  load?: string
  quant?: string
  bytes?: number
  identical_tensors?: boolean
  tensors?: number
  result?: Record<string, unknown> | string
}

const file = process.argv[2] ?? 'bench/out/scale/results.jsonl'
const last = new Map<string, Line>()
for (const text of readFileSync(file, 'utf8').split('\n')) {
  if (text.trim() !== '') {
    const line = JSON.parse(text) as Line
    last.set(line.step === 'cache-size' ? `cache-size-${line.quant}` : line.step, line)
  }
}
const f = (x: number | undefined, d = 1): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d))
const gb = (mb: number | undefined): string => (mb === undefined ? '-' : `${(mb / 1024).toFixed(2)} GB`)
const num = (r: Line | undefined, key: string): number | undefined => {
  const v = typeof r?.result === 'object' ? r.result[key] : undefined
  return typeof v === 'number' ? v : undefined
}
const status = (r: Line | undefined): string => (r === undefined ? 'not run' : r.exit === 0 ? '' : ` (exit ${r.exit})`)

console.log(`Machine: ${cpus().length} vCPU ${cpus()[0]?.model ?? ''}, ${f(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}`)
console.log('')
console.log('| step | wall | peak RSS | date (UTC) | load avg | command |')
console.log('|---|---|---|---|---|---|')
for (const r of last.values()) {
  if (r.cmd !== undefined) {
    console.log(`| ${r.step}${status(r)} | ${f(r.seconds)} s | ${gb(r.max_rss_mb)} | ${r.date ?? ''} | ${r.load ?? ''} | \`${r.cmd.replace(/\|/g, '\\|')}\` |`)
  }
}
const native = last.get('merge-native')
const mergekit = last.get('merge-mergekit')
const compare = last.get('merge-compare')
if (native !== undefined || mergekit !== undefined) {
  console.log('')
  console.log(`Merge 32 -> 48 layers: native ${f(native?.seconds)} s at ${f(native?.max_rss_mb, 0)} MB; mergekit-yaml ${f(mergekit?.seconds)} s at ${f(mergekit?.max_rss_mb, 0)} MB` +
    ` (time ratio ${f((mergekit?.seconds ?? Number.NaN) / (native?.seconds ?? Number.NaN), 2)}x, RSS ratio ${f((mergekit?.max_rss_mb ?? Number.NaN) / (native?.max_rss_mb ?? Number.NaN), 0)}x);` +
    ` tensors identical: ${compare?.identical_tensors ?? '-'} (${compare?.tensors ?? '-'} tensors)`)
}
const hf = last.get('transformers-bf16')
const hfTps = num(hf, 'tokens_per_s')
console.log('')
console.log('| format | cache build | cache size | forward tokens/s | vs transformers bf16 | peak RSS | vs transformers bf16 |')
console.log('|---|---|---|---|---|---|---|')
console.log(`| transformers bf16 | - | - | ${f(hfTps)} | 1.00x | ${gb(hf?.max_rss_mb)} | 1.00x |`)
for (const fmt of ['int4', 'int8', 'w8a8', 'fp32']) {
  const cache = last.get(`cache-${fmt}`)
  const size = last.get(`cache-size-${fmt}`)
  const ev = last.get(`eval-${fmt}`)
  if (cache === undefined && ev === undefined) {
    continue
  }
  const tps = num(ev, 'tokens_per_s')
  console.log(`| ${fmt} | ${f(cache?.seconds)} s${status(cache)} | ${size?.bytes === undefined ? '-' : `${(size.bytes / 1e9).toFixed(2)} GB`} | ${f(tps)}${status(ev)} | ${f((tps ?? Number.NaN) / (hfTps ?? Number.NaN), 2)}x | ${gb(ev?.max_rss_mb)} | ${f((ev?.max_rss_mb ?? Number.NaN) / (hf?.max_rss_mb ?? Number.NaN), 2)}x |`)
}
for (const fmt of ['int4', 'int8', 'w8a8']) {
  const p = last.get(`profile-${fmt}`)
  if (p !== undefined) {
    console.log(`\nprofile ${fmt}${status(p)}: ${num(p, 'tokens')} tokens, ${f(num(p, 'tokensPerSecond'))} tokens/s (in the run), ${f(p.seconds)} s wall, peak RSS ${gb(p.max_rss_mb)}`)
  }
  const c = last.get(`curve-${fmt}`)
  if (c !== undefined) {
    const result = typeof c.result === 'object' ? c.result : {}
    const report = (result.report ?? result) as {numLayers?: number; tokens?: number; evaluations?: unknown[]; layersRun?: number}
    const L = report.numLayers ?? 32
    const evaluations = report.evaluations?.length
    const naive = evaluations === undefined ? undefined : evaluations * (L + 1) + L
    console.log(`\ncurve ${fmt}${status(c)}: ${f(c.seconds)} s wall (cache ready), peak RSS ${gb(c.max_rss_mb)}, ${report.tokens ?? '-'} tokens, ${evaluations ?? '-'} candidates measured;` +
      ` layers run ${report.layersRun ?? '-'} vs ${naive ?? '-'} for the naive sweep (every candidate from the tokens, plus the original): ${f((naive ?? Number.NaN) / (report.layersRun ?? Number.NaN), 1)}x fewer`)
  }
}
