/**
 * bench/curve racing: greedy's first pick over all 24 single-layer duplications of the generated
 * 24-layer Llama of bench/curve (make_model.py), measured two ways on the same rows with the same
 * open decoder: the full sweep (every candidate on all rows, --no-racing) and racing (successive
 * halving: all candidates on a first slice, those clearly worse by the 99% paired bootstrap interval
 * dropped, the rows doubled for the rest). Reports both picks, their KL, the layer runs of each and
 * their ratio (layer runs count work, not time: no load dependence).
 *
 *   source scripts/setup-python.sh && node --import tsx bench/curve/racing.ts [maxAdd=2] [window=32]
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createCurveEvaluator} from '../../src/curve/curve-evaluator.js'
import {expansionCurveIter} from '../../src/curve/expansion-curve.js'
import {drain} from '../../src/drain.js'
import {tokenWindows} from '../../src/eval/token-windows.js'
import {modelOf} from '../../src/model/loaded-model.js'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {loadTokenizer} from '../../src/tokenizer/load-tokenizer.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const MODEL = join(ROOT, 'bench/out/curve-llama24')
const maxAdd = Number(process.argv[2] ?? 2)
const windowSize = Number(process.argv[3] ?? 32)
const py = process.env.DLEC_PYTHON
if (!py) {
  throw new Error('source scripts/setup-python.sh first (DLEC_PYTHON)')
}
execFileSync(py, [join(ROOT, 'bench/curve/make_model.py'), MODEL], {stdio: 'inherit'})
const texts = [join(ROOT, 'fixtures/calibration/stories.txt'), join(ROOT, 'test/curve/heldout.txt')].flatMap((f) => readFileSync(f, 'utf8').split(/\n\s*\n/))
const rows = tokenWindows({tokenizer: loadTokenizer(MODEL), texts, windowSize}).rows
const batches: number[][][] = []
for (let at = 0; at < rows.length; at += 4) {
  batches.push(rows.slice(at, at + 4))
}
const model = await modelOf({modelDir: MODEL})
const decoder = await openDecoder({modelDir: MODEL, cacheDir: join(ROOT, 'bench/out/cache'), threads: 1, maxSessions: 32})

async function run(racing: boolean): Promise<{layers: number[][]; kl: number[]; layersRun: number; setup: number; dropped: number}> {
  const evaluator = await createCurveEvaluator({decoder, batches})
  const setup = evaluator.layersRun
  const report = await drain(expansionCurveIter({evaluator, breakdown: model.breakdown, strategies: ['greedy'], maxAdd, candidates: 'all', blockSizes: [1], racing}))
  return {layers: report.points.map((p) => p.layers), kl: report.points.map((p) => p.kl), layersRun: report.layersRun, setup, dropped: report.racing.dropped}
}

const full = await run(false)
const raced = await run(true)
await decoder.release()
const same = JSON.stringify(full.layers) === JSON.stringify(raced.layers) && JSON.stringify(full.kl) === JSON.stringify(raced.kl)
const searchRuns = (r: typeof full): number => r.layersRun - r.setup
console.log(`model: generated 24-layer Llama; ${rows.length} rows of at most ${windowSize} tokens (batches of 4); greedy, all 24 single-layer candidates, up to +${maxAdd}`)
console.log(`full sweep: picks ${full.layers.map((l) => l.join(',')).join(' | ')}  KL ${full.kl.map((k) => k.toFixed(6)).join(', ')}  layer runs ${full.layersRun} (${searchRuns(full)} after the ${full.setup}-run setup pass)`)
console.log(`racing:     picks ${raced.layers.map((l) => l.join(',')).join(' | ')}  KL ${raced.kl.map((k) => k.toFixed(6)).join(', ')}  layer runs ${raced.layersRun} (${searchRuns(raced)} after setup); ${raced.dropped} candidates dropped early`)
console.log(`same picks and numbers: ${same}   layer runs full/racing: ${(full.layersRun / raced.layersRun).toFixed(2)}x (search only: ${(searchRuns(full) / searchRuns(raced)).toFixed(2)}x)`)
