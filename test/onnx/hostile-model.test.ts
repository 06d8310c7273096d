import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {clampThreads} from '../../src/onnx/session.js'
import {prepareWeightStoreIter} from '../../src/onnx/weight-store.js'
import {readWeightFiles} from '../../src/model/weight-files.js'
import {dlec, GENERATED} from '../helpers/cli.js'
import {rejectsWith} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-model-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const LLAMA = join(GENERATED, 'llama')
const cacheDir = join(tmp, 'cache')

let n = 0
/** A copy of the tiny generated llama with config.json edited by `edit` (or replaced by `raw`). */
function brokenModel(edit: (config: Record<string, unknown>) => unknown): string {
  const dir = join(tmp, `model-${n++}`)
  cpSync(LLAMA, dir, {recursive: true})
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
  writeFileSync(join(dir, 'config.json'), JSON.stringify(edit(config)))
  return dir
}

const open = (modelDir: string): Promise<unknown> => openDecoder({modelDir, cacheDir, threads: 1}).then((d) => d.release())

describe('config.json checked against the checkpoint before a graph is built', () => {
  it('config.json that is null, or a list, is a ModelError naming the file (exit 4 family)', async () => {
    await rejectsWith(() => open(brokenModel(() => null)), 'model', /model-\d+\/config\.json: not a JSON object/)
    await rejectsWith(() => open(brokenModel(() => [1, 2])), 'model', /config\.json: not a JSON object/)
  })

  it('num_attention_heads 0, a negative hidden size and a fractional vocabulary are refused by name', async () => {
    await rejectsWith(() => open(brokenModel((c) => ({...c, num_attention_heads: 0}))), 'model', /config\.json: num_attention_heads must be a positive integer up to \d+ \(got 0\)/)
    await rejectsWith(() => open(brokenModel((c) => ({...c, hidden_size: -64}))), 'model', /config\.json: hidden_size must be a positive integer/)
    await rejectsWith(() => open(brokenModel((c) => ({...c, vocab_size: 511.5}))), 'model', /config\.json: vocab_size must be a positive integer/)
  })

  it('num_hidden_layers 1e9 is refused at once (no allocation per layer)', async () => {
    await rejectsWith(() => open(brokenModel((c) => ({...c, num_hidden_layers: 1e9}))), 'model', /config\.json: num_hidden_layers 1000000000 is beyond dlec's limit of 10000 layers/)
  })

  it('num_hidden_layers smaller than the checkpoint is refused (not silently used)', async () => {
    await rejectsWith(() => open(brokenModel((c) => ({...c, num_hidden_layers: 3}))), 'model', /config\.json: says num_hidden_layers 3 but the checkpoint has model\.layers\.3\./)
  })

  it('a tensor shape that disagrees with config.json names the tensor and both shapes', async () => {
    await rejectsWith(() => open(brokenModel((c) => ({...c, num_attention_heads: 8}))), 'model', /tensor model\.layers\.0\.self_attn\.q_proj\.weight has shape \[64, 64\] but config\.json implies \[128, 64\]/)
    await rejectsWith(() => open(brokenModel((c) => ({...c, vocab_size: 600}))), 'model', /tensor model\.embed_tokens\.weight has shape \[512, 64\] but config\.json implies \[600, 64\]/)
  })

  it('layer_types of the wrong length is refused', async () => {
    await rejectsWith(() => open(brokenModel((c) => ({...c, layer_types: ['full_attention']}))), 'model', /config\.json: layer_types has 1 entries but num_hidden_layers is 4/)
  })

  it('an I32 weight is refused naming the tensor (never read as float32 bit patterns)', async () => {
    const dir = brokenModel((c) => c)
    const file = join(dir, 'model.safetensors')
    const bytes = readFileSync(file)
    const headerLength = Number(bytes.readBigUInt64LE(0))
    const header = bytes.subarray(8, 8 + headerLength).toString('utf8')
    const name = '"model.layers.0.input_layernorm.weight"'
    const at = header.indexOf(name)
    const dtypeAt = header.indexOf('"F32"', at)
    bytes.write('"I32"', 8 + dtypeAt, 'utf8')
    writeFileSync(file, bytes)
    await rejectsWith(() => open(dir), 'model', /model\.safetensors: tensor model\.layers\.0\.input_layernorm\.weight is I32; dlec runs float weights only/)
  })

  it('dlec eval on a model with 0 heads: exit 4, one line, no ONNX Runtime log lines', async () => {
    const r = await dlec(['eval', brokenModel((c) => ({...c, num_attention_heads: 0})), '--data', join(GENERATED, '..', 'calibration', 'stories.txt'), '--cache-dir', cacheDir])
    assert.equal(r.code, 4, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.doesNotMatch(r.stderr, /\[E:onnxruntime/)
    assert.ok(!r.stderr.includes(String.fromCharCode(27)), "no ANSI colour codes")
  })
})

describe('bounded resources and the weight cache', () => {
  it('--threads is clamped to the cores (100000 -> availableParallelism) and must be positive', () => {
    assert.equal(clampThreads(100000), availableParallelism())
    assert.equal(clampThreads(1), 1)
    assert.equal(clampThreads(undefined), undefined)
    assert.throws(() => clampThreads(0), /--threads must be a positive whole number \(got 0\)/)
  })

  it('an interrupted first weight-cache build leaves no *.tmp-PID and is not trusted; the next build completes', async () => {
    const files = await readWeightFiles(join(GENERATED, 'llama-bf16'))
    const cache = join(tmp, 'interrupted-cache')
    const controller = new AbortController()
    const it = prepareWeightStoreIter({files, cacheDir: cache, signal: controller.signal})
    await rejectsWith(async () => {
      for (;;) {
        const r = await it.next()
        if (r.done === true) {
          return
        }
        if (r.value.type === 'convert' && r.value.done === 2) {
          controller.abort()
        }
      }
    }, 'interrupted', /converting the weights into .* was interrupted; nothing was cached/)
    const [key] = readdirSync(join(cache, 'models'))
    const entries = readdirSync(join(cache, 'models', String(key)))
    assert.deepEqual(entries.filter((f) => /\.tmp/.test(f) || f.endsWith('.json') || f.endsWith('.bin')), [], entries.join(', '))
    // A consumer that stops at a yield (return()) cleans up the same way.
    const stopped = prepareWeightStoreIter({files, cacheDir: cache})
    await stopped.next()
    await stopped.return(undefined as never)
    assert.deepEqual(readdirSync(join(cache, 'models', String(key))).filter((f) => /\.tmp/.test(f)), [])
    // Then a full build works and is what gets used.
    const dec = await openDecoder({modelDir: join(GENERATED, 'llama-bf16'), cacheDir: cache, threads: 1})
    await dec.release()
    assert.ok(readdirSync(join(cache, 'models', String(key))).some((f) => f === 'weights-fp32.json'))
    assert.ok(existsSync(join(cache, 'models', String(key), 'weights-fp32.bin')))
  })
})
