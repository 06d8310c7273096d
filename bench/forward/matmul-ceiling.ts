/**
 * The matmul ceiling bench/forward compares against (stack.md): ONNX Runtime fp32 MatMul
 * [512 x 2048] x [2048 x 2048] on this machine, at the given threads, best of 5. Prints one JSON line.
 *
 * usage: node --import tsx bench/forward/matmul-ceiling.ts THREADS
 */
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {GraphBuilder} from '../../src/onnx/graph-builder.js'
import {createSession} from '../../src/onnx/session.js'

const threads = Number(process.argv[2] ?? 2)
const [M, K, N] = [512, 2048, 2048]
const w = Float32Array.from({length: K * N}, (_, i) => Math.sin(i) * 0.02)
const x = Float32Array.from({length: M * K}, (_, i) => Math.cos(i))
const g = new GraphBuilder('ceiling')
const y = g.op('MatMul', [g.input('x', 'float', [M, K]), g.initializer('w', 'float', [K, N], new Uint8Array(w.buffer))])
g.output(y, 'y', 'float', [M, N])
const path = join(mkdtempSync(join(tmpdir(), 'dlec-ceiling-')), 'mm.onnx')
writeFileSync(path, g.toBytes())
const s = await createSession({path, threads, prepack: true})
await s.run({x: {dims: [M, K], data: x}}, ['y'])
let best = Number.POSITIVE_INFINITY
for (let i = 0; i < 5; i++) {
  const t = performance.now()
  await s.run({x: {dims: [M, K], data: x}}, ['y'])
  best = Math.min(best, (performance.now() - t) / 1000)
}
await s.release()
console.log(JSON.stringify({engine: 'ort-matmul', threads, gflops: (2 * M * K * N) / best / 1e9}))
