/**
 * bench/graph: how long ONNX Runtime takes to open dlec's graph of a long layer sequence (the
 * full graph that eval / generate without cache run, and the KV-cache graph), for 30, 60, 120
 * and 240 positions of a 120-layer model (make_deep.py; 240 = every layer twice). Each timing is
 * `prepare` (graph written and session created), in a fresh cache, 1 thread.
 *
 *   source scripts/setup-python.sh && node --import tsx bench/graph/open-time.ts [SRC_ROOT]
 *
 * SRC_ROOT (default: this checkout) is a checkout whose src/ to measure, e.g. a worktree of an
 * earlier commit, so two versions can be compared in one run.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {openDecoder as OpenDecoder} from '../../src/onnx/open-decoder.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SRC = resolve(process.argv[2] ?? ROOT)
const MODEL = join(ROOT, 'bench/out/deep120')
const py = process.env.DLEC_PYTHON
if (!py) {
  throw new Error('source scripts/setup-python.sh first (DLEC_PYTHON)')
}
execFileSync(py, [join(ROOT, 'bench/graph/make_deep.py'), MODEL], {stdio: 'inherit'})
const {openDecoder} = (await import(join(SRC, 'src/onnx/open-decoder.ts'))) as {openDecoder: typeof OpenDecoder}

for (const positions of [30, 60, 120, 240]) {
  const layers = Array.from({length: positions}, (_, i) => i % 120)
  for (const kvCache of [false, true]) {
    const cacheDir = mkdtempSync(join(tmpdir(), 'dlec-open-'))
    const decoder = await openDecoder({modelDir: MODEL, cacheDir, threads: 1})
    const t0 = performance.now()
    await (kvCache ? decoder.prepare({layers, kvCache: true}) : decoder.prepare({layers, outputs: {logits: 'last'}}))
    const seconds = (performance.now() - t0) / 1000
    await decoder.release()
    rmSync(cacheDir, {recursive: true, force: true})
    console.log(JSON.stringify({src: SRC, positions, graph: kvCache ? 'kv-cache' : 'full', seconds: Number(seconds.toFixed(2))}))
  }
}
