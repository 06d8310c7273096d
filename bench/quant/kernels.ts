/**
 * The matmul kernels dlec can reach in ONNX Runtime, on this CPU, for one [M x K] x [K x N]
 * product (default the issue's [512 x 4096] x [4096 x 4096]): fp32 MatMul, MatMulNBits int4 / int8
 * (accuracy_level 0 and 4), com.microsoft DynamicQuantizeMatMul with int8 (S8) and uint8 weights,
 * and MatMulInteger after DynamicQuantizeLinear. Each runs with and without weight pre-packing,
 * best of REPEATS interleaved rounds. Prints the CPU features dlec detects, then one JSON line per kernel.
 *
 * usage: node --import tsx bench/quant/kernels.ts [THREADS=2] [M=512] [K=4096] [N=4096] [REPEATS=5] [ONLY]
 *   ONLY: run just the kernels whose name contains it (e.g. `S8`)
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import {join} from 'node:path'
import {GraphBuilder} from '../../src/onnx/graph-builder.js'
import {createSession, type OrtSession} from '../../src/onnx/session.js'
import {quantizeBlocks} from '../../src/onnx/quantize.js'
import {cpuFeatures} from '../../src/onnx/cpu-features.js'

const [threads, M, K, N, repeats] = [2, 512, 4096, 4096, 5].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number, number, number]
const dir = mkdtempSync(join(tmpdir(), 'dlec-kernels-'))
// Seeded uniform noise (a linear congruential generator), so every run multiplies the same numbers.
let seed = 12345
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0
  return seed / 2 ** 32 - 0.5
}
const w = Float32Array.from({length: N * K}, () => rand() * 0.04) // [N, K] like an HF Linear
const x = Float32Array.from({length: M * K}, () => rand() * 2)
const wt = new Float32Array(K * N) // [K, N]
for (let n = 0; n < N; n++) {for (let k = 0; k < K; k++) {wt[k * N + n] = w[n * K + k] as number}}
const s8 = new Int8Array(K * N)
const u8 = new Uint8Array(K * N)
const colScale = new Float32Array(N)
for (let n = 0; n < N; n++) {
  let m = 0
  for (let k = 0; k < K; k++) {m = Math.max(m, Math.abs(w[n * K + k] as number))}
  colScale[n] = m / 127
}
for (let k = 0; k < K; k++) {
  for (let n = 0; n < N; n++) {
    const q = Math.round((wt[k * N + n] as number) / (colScale[n] as number))
    s8[k * N + n] = q
    u8[k * N + n] = q + 128
  }
}
const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
type Build = (g: GraphBuilder, x: string) => string
const kernels: Record<string, Build> = {
  'fp32 MatMul': (g, xin) => g.op('MatMul', [xin, g.initializer('w', 'float', [K, N], bytes(wt))]),
  ...Object.fromEntries(
    ([4, 8] as const).flatMap((bits) =>
      [0, 4].map((level) => [
        `MatMulNBits int${bits} accuracy_level ${level}`,
        ((g, xin) => {
          const qb = quantizeBlocks(w, N, K, bits, 32)
          const wq = g.initializer('wq', 'uint8', [N, K / 32, (32 * bits) / 8], qb.q)
          const sc = g.initializer('ws', 'float', [N * (K / 32)], bytes(qb.scales))
          return g.op('MatMulNBits', [xin, wq, sc], {K, N, bits, block_size: 32, accuracy_level: level}, {domain: 'com.microsoft'})
        }) as Build,
      ]),
    ),
  ),
  'DynamicQuantizeMatMul int8 weights (S8)': (g, xin) =>
    g.op('DynamicQuantizeMatMul', [xin, g.initializer('w8', 'int8', [K, N], bytes(s8)), g.initializer('s', 'float', [N], bytes(colScale))], {}, {domain: 'com.microsoft'}),
  'DynamicQuantizeMatMul uint8 weights (U8)': (g, xin) =>
    g.op(
      'DynamicQuantizeMatMul',
      [xin, g.initializer('w8', 'uint8', [K, N], u8), g.initializer('s', 'float', [N], bytes(colScale)), g.initializer('z', 'uint8', [N], new Uint8Array(N).fill(128))],
      {},
      {domain: 'com.microsoft'},
    ),
  'DynamicQuantizeLinear + MatMulInteger int8 weights': (g, xin) => {
    const [xq, xs, xz] = g.opMulti('DynamicQuantizeLinear', [xin], {}, {outputs: 3})
    const acc = g.op('MatMulInteger', [xq as string, g.initializer('w8', 'int8', [K, N], bytes(s8)), xz as string])
    const scale = g.op('Mul', [xs as string, g.initializer('s', 'float', [N], bytes(colScale))])
    return g.op('Mul', [g.op('Cast', [acc], {to: 1}), scale])
  },
  'DynamicQuantizeLinear + MatMulIntegerToFloat int8 weights': (g, xin) => {
    const [xq, xs, xz] = g.opMulti('DynamicQuantizeLinear', [xin], {}, {outputs: 3})
    const ws = g.initializer('s', 'float', [N], bytes(colScale))
    return g.op('MatMulIntegerToFloat', [xq as string, g.initializer('w8', 'int8', [K, N], bytes(s8)), xs as string, ws, xz as string], {}, {domain: 'com.microsoft'})
  },
}
console.log(JSON.stringify({cpu: cpuFeatures(), threads, M, K, N, loadavg: loadavg().map((l) => +l.toFixed(2))}))
// Every session is opened first and the kernels then run in ROUNDS, each round every kernel once, so
// a load spike on this shared machine hits all of them alike; the best round of each is reported.
const feeds = {x: {dims: [M, K], data: x}}
const runs: {name: string; prepack: boolean; session: OrtSession; best: number; y: Float32Array}[] = []
const only = process.argv[7]
for (const [name, build] of Object.entries(kernels).filter(([n]) => only === undefined || n.includes(only))) {
  for (const prepack of [true, false]) {
    const g = new GraphBuilder('kernel')
    g.output(build(g, g.input('x', 'float', [M, K])), 'y', 'float', [M, N])
    const path = join(dir, `k${runs.length}.onnx`)
    writeFileSync(path, g.toBytes())
    const session = await createSession({path, threads, prepack})
    const y = (await session.run(feeds, ['y'])).y?.data as Float32Array
    runs.push({name, prepack, session, best: Number.POSITIVE_INFINITY, y})
  }
}
for (let i = 0; i < repeats; i++) {
  for (const r of runs) {
    const t = performance.now()
    await r.session.run(feeds, ['y'])
    r.best = Math.min(r.best, (performance.now() - t) / 1000)
  }
}
for (const r of runs) {
  await r.session.release()
  // Relative error against the fp32 product on a few entries (the kernel's own accuracy).
  let num = 0
  let den = 0
  for (let row = 0; row < M; row += 97) {
    for (let c = 0; c < N; c += 131) {
      let exact = 0
      for (let k = 0; k < K; k++) {exact += (x[row * K + k] as number) * (w[c * K + k] as number)}
      num += (exact - (r.y[row * N + c] as number)) ** 2
      den += exact ** 2
    }
  }
  console.log(JSON.stringify({kernel: r.name, prepack: r.prepack, ms: +(r.best * 1000).toFixed(1), gflops: Math.round((2 * M * K * N) / r.best / 1e9), relErr: +Math.sqrt(num / den).toExponential(2)}))
}
console.log(JSON.stringify({loadavgAfter: loadavg().map((l) => +l.toFixed(2))}))
rmSync(dir, {recursive: true, force: true})
