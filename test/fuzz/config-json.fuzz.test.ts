import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import fc from 'fast-check'
import {numLayersOf, resolveArchitecture} from '../../src/architectures/registry.js'
import {matchCheckpoint} from '../../src/architectures/match-checkpoint.js'
import {loadModelConfig} from '../../src/model/load-model-config.js'
import {checkCheckpoint} from '../../src/onnx/check-checkpoint.js'
import {decoderSpec} from '../../src/onnx/decoder-spec.js'
import {GENERATED} from '../helpers/cli.js'
import {fuzzOptions, isTyped} from './fuzz-options.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-fuzz-config-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

const FAMILIES = ['llama', 'gemma2', 'gpt2', 'phi', 'phi3', 'qwen3']
const bases = FAMILIES.map((f) => JSON.parse(readFileSync(join(GENERATED, f, 'config.json'), 'utf8')) as Record<string, unknown>)
const KEYS = ['num_hidden_layers', 'n_layer', 'hidden_size', 'n_embd', 'num_attention_heads', 'n_head', 'num_key_value_heads', 'head_dim', 'vocab_size', 'max_position_embeddings', 'layer_types', 'rope_parameters', 'rope_scaling', 'architectures', 'model_type', 'hidden_act', 'sliding_window', 'partial_rotary_factor', 'text_config']
const hostileValue = fc.oneof(
  fc.constantFrom(0, -1, 1e9, 2 ** 53, 1.5, null, '', 'abc', true, [], {}, ['full_attention'], Number.MAX_VALUE),
  fc.integer({min: -3, max: 70}),
  fc.jsonValue({maxDepth: 2}),
)

describe('fuzz: config.json reader and its checks against the checkpoint', () => {
  it('real configs with hostile values: only one-line ModelErrors, never a crash; accepted specs are sane', async () => {
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.nat(bases.length - 1), fc.dictionary(fc.constantFrom(...KEYS), hostileValue, {maxKeys: 3}), async (which, edits) => {
        const dir = join(tmp, `c${n++}`)
        const text = JSON.stringify({...bases[which], ...edits})
        rmSync(dir, {recursive: true, force: true})
        mkdirSync(dir)
        writeFileSync(join(dir, 'config.json'), text)
        try {
          const config = await loadModelConfig(dir)
          const arch = resolveArchitecture(config, 'config.json')
          const depth = numLayersOf(config, arch)
          const spec = decoderSpec(config, arch)
          assert.ok(spec.heads >= 1 && spec.hidden >= 1 && spec.headDim >= 1 && depth <= 10_000)
          const names = new Set<string>()
          const match = matchCheckpoint({arch, numLayers: depth, names})
          checkCheckpoint({spec, arch, match, shapes: new Map(), source: 'config.json'})
        } catch (error) {
          assert.ok(isTyped(error, ['model']), `${String((error as Error).stack)}\n--- config: ${text}`)
        }
        assert.equal(readFileSync(join(dir, 'config.json'), 'utf8'), text)
        rmSync(dir, {recursive: true})
      }),
      fuzzOptions(600),
    )
  })

  it('arbitrary JSON (and non-JSON) as config.json: only ModelErrors', async () => {
    const file = join(tmp, 'any')
    mkdirSync(file)
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue({maxDepth: 3}).map((v) => JSON.stringify(v)), fc.string({maxLength: 60})), async (text) => {
        writeFileSync(join(file, 'config.json'), text)
        try {
          const config = await loadModelConfig(file)
          decoderSpec(config, resolveArchitecture(config, 'config.json'))
        } catch (error) {
          assert.ok(isTyped(error, ['model']), `${String((error as Error).stack)}\n--- config: ${text}`)
        }
      }),
      fuzzOptions(600),
    )
  })
})
