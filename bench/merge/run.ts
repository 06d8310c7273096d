/**
 * Merge benchmark: native engine vs real mergekit-yaml vs `cp` of the source (the physical limit),
 * same machine, same run, on random-weight bf16 Llamas with 7B-sized layers.
 *
 *   source scripts/setup-python.sh && npm run build && node --import tsx bench/merge/run.ts [--layers 2,4] [--dir /tmp/x] [--skip-mergekit]
 *
 * Each model is merged with slices [0, n) + [n/2, n) (1.5x the layers). Wall time and peak RSS come
 * from GNU time (/usr/bin/time -v). Prints a markdown table and writes bench/merge/results.json.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import {cpus, tmpdir, totalmem} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {makeModel} from './make-model.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const layerCounts = (arg('--layers') ?? '2,4').split(',').map(Number)
const base = arg('--dir') ?? join(tmpdir(), 'dlec-bench-merge')
const skipMergekit = process.argv.includes('--skip-mergekit')

interface Measure {
  seconds: number
  maxRssMB: number
}

/** Runs a command under GNU time; wall seconds and peak RSS of the process tree's largest member. */
function timed(cmd: string[]): Measure {
  const run = spawnSync('/usr/bin/time', ['-v', ...cmd], {encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 256 * 1024 * 1024})
  const out = run.stderr
  if (run.status !== 0) {
    throw Object.assign(new Error('failed'), {stderr: out})
  }
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(out)
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(out)
  const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : Number.NaN
  return {seconds, maxRssMB: rss ? Number(rss[1]) / 1024 : Number.NaN}
}

function timedStderr(cmd: string[]): Measure {
  try {
    return timed(cmd)
  } catch (error) {
    const e = error as {stderr?: string}
    throw new Error(`${cmd.join(' ')} failed: ${(e.stderr ?? '').slice(-2000)}`)
  }
}

const rows: Record<string, unknown>[] = []
mkdirSync(base, {recursive: true})
for (const n of layerCounts) {
  const dir = join(base, `llama7b-${n}l`)
  let sourceBytes: number
  if (!existsSync(join(dir, 'config.json'))) {
    sourceBytes = await makeModel(dir, n)
  } else {
    sourceBytes = Number(execFileSync('du', ['-sb', dir], {encoding: 'utf8'}).split('\t')[0])
  }
  const yaml = join(base, `merge-${n}.yml`)
  writeFileSync(yaml, `slices:\n- sources:\n  - model: ${dir}\n    layer_range: [0, ${n}]\n- sources:\n  - model: ${dir}\n    layer_range: [${n / 2}, ${n}]\nmerge_method: passthrough\ndtype: bfloat16\n`)
  const outs = {cp: join(base, 'out-cp'), dd: join(base, 'out-dd'), native: join(base, 'out-native'), mergekit: join(base, 'out-mergekit')}
  for (const o of Object.values(outs)) {
    rmSync(o, {recursive: true, force: true})
  }
  execFileSync('sync')
  const cp = timedStderr(['cp', '-r', dir, outs.cp])
  rmSync(outs.cp, {recursive: true, force: true})
  // cp moves the bytes inside the kernel (copy_file_range); dd with 16 MB blocks moves them through a
  // user-space buffer, read then write, as any program without a ranged in-kernel copy (Node) must.
  const dd = timedStderr(['sh', '-c', `mkdir -p "$2" && for f in "$1"/*.safetensors; do dd if="$f" of="$2/$(basename "$f")" bs=16M status=none; done`, 'dd', dir, outs.dd])
  rmSync(outs.dd, {recursive: true, force: true})
  const native = timedStderr([process.execPath, join(ROOT, 'bin/run.js'), 'merge', yaml, outs.native, '--engine', 'native', '--json'])
  const outBytes = Number(execFileSync('du', ['-sb', outs.native], {encoding: 'utf8'}).split('\t')[0])
  rmSync(outs.native, {recursive: true, force: true})
  const mergekit = skipMergekit ? undefined : timedStderr(['mergekit-yaml', yaml, outs.mergekit, '--quiet'])
  rmSync(outs.mergekit, {recursive: true, force: true})
  const mbps = (bytes: number, m: Measure): number => bytes / 1e6 / m.seconds
  rows.push({
    layers: n,
    outLayers: n + n / 2,
    sourceGB: sourceBytes / 1e9,
    outputGB: outBytes / 1e9,
    cp: {...cp, MBps: mbps(sourceBytes, cp)},
    dd: {...dd, MBps: mbps(sourceBytes, dd)},
    native: {...native, MBps: mbps(outBytes, native)},
    ...(mergekit ? {mergekit: {...mergekit, MBps: mbps(outBytes, mergekit)}} : {}),
  })
}
const machine = {cpus: cpus().length, cpu: cpus()[0]?.model, memGB: totalmem() / 2 ** 30, node: process.version, date: new Date().toISOString()}
writeFileSync(join(ROOT, 'bench/merge/results.json'), `${JSON.stringify({machine, rows}, null, 2)}\n`)
const f = (x: number, d = 1): string => x.toFixed(d)
console.log(`Machine: ${machine.cpus} cores (${machine.cpu}), ${f(machine.memGB)} GiB RAM, Node ${machine.node}`)
console.log('| source | output | cp (source) | dd bs=16M (source) | native | mergekit-yaml | native peak RSS | mergekit peak RSS |')
console.log('|---|---|---|---|---|---|---|---|')
for (const r of rows as {layers: number; outLayers: number; sourceGB: number; outputGB: number; cp: Measure & {MBps: number}; dd: Measure & {MBps: number}; native: Measure & {MBps: number}; mergekit?: Measure & {MBps: number}}[]) {
  const mk = r.mergekit ? `${f(r.mergekit.seconds)} s (${f(r.mergekit.MBps, 0)} MB/s)` : 'skipped'
  const mkRss = r.mergekit ? `${f(r.mergekit.maxRssMB, 0)} MB` : '-'
  console.log(
    `| ${r.layers} layers, ${f(r.sourceGB, 2)} GB | ${r.outLayers} layers, ${f(r.outputGB, 2)} GB | ${f(r.cp.seconds)} s (${f(r.cp.MBps, 0)} MB/s) | ${f(r.dd.seconds)} s (${f(r.dd.MBps, 0)} MB/s) | ${f(r.native.seconds)} s (${f(r.native.MBps, 0)} MB/s) | ${mk} | ${f(r.native.maxRssMB, 0)} MB | ${mkRss} |`,
  )
}
