import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {listArchitectures, numLayersOf, resolveArchitecture} from '../../src/architectures/registry.js'
import {matchCheckpoint} from '../../src/architectures/match-checkpoint.js'
import {GENERATED, STORIES} from '../helpers/cli.js'

/** Tensor names of a checkpoint folder, read straight from the safetensors headers (u64 LE length + JSON). */
function storedNames(dir: string): string[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.safetensors'))
  const names: string[] = []
  for (const f of files) {
    const buf = readFileSync(join(dir, f))
    const len = Number(buf.readBigUInt64LE(0))
    const header = JSON.parse(buf.subarray(8, 8 + len).toString('utf8')) as Record<string, unknown>
    names.push(...Object.keys(header).filter((k) => k !== '__metadata__'))
  }
  return names.sort()
}

// Every fixture written by test/python/make_fixtures.py, and the family each must resolve to.
const FIXTURES: Record<string, string> = {
  llama: 'llama',
  'llama-sharded': 'llama',
  'llama-bf16': 'llama',
  mistral: 'mistral',
  qwen2: 'qwen2',
  qwen3: 'qwen3',
  gemma: 'gemma',
  gemma2: 'gemma2',
  phi: 'phi',
  phi3: 'phi3',
  gpt2: 'gpt2',
}

describe('architecture families against real checkpoints', () => {
  it('has a definition for every family of the issue, each with a fixture', () => {
    const names = listArchitectures().map((d) => d.name).sort()
    assert.deepEqual(names, ['gemma', 'gemma2', 'gpt2', 'llama', 'mistral', 'phi', 'phi3', 'qwen2', 'qwen3'])
    assert.deepEqual([...new Set(Object.values(FIXTURES))].sort(), names)
  })

  const cases: [string, string, string][] = [
    ['stories260K', STORIES, 'llama'],
    ...Object.entries(FIXTURES).map(([dir, fam]): [string, string, string] => [dir, join(GENERATED, dir), fam]),
  ]
  for (const [label, dir, family] of cases) {
    it(`${label}: resolves to ${family} and the template tensor set equals the checkpoint's`, () => {
      assert.ok(existsSync(join(dir, 'config.json')), `${dir} missing: run test/python/make_fixtures.py`)
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'))
      const arch = resolveArchitecture(config)
      assert.equal(arch.name, family)
      const numLayers = numLayersOf(config, arch)
      const names = storedNames(dir)
      const match = matchCheckpoint({arch, numLayers, names})
      assert.deepEqual(match.missing, [])
      assert.deepEqual(match.unclaimed, [])
      assert.deepEqual(match.tensors.map((t) => t.stored).sort(), names)
      // Every per-layer list in config.json (length = depth) is declared, so a merge can remap it.
      const perLayer = Object.keys(config).filter((k) => Array.isArray(config[k]) && config[k].length === numLayers && k !== 'architectures')
      assert.deepEqual(perLayer.filter((k) => !arch.perLayerConfigKeys.includes(k)), [])
      // Layer tensors: exactly numLayers x the template, each layer index in range.
      const layerTensors = match.tensors.filter((t) => t.section === 'layer')
      assert.equal(layerTensors.length, numLayers * arch.layerWeights.length)
      // Identity filters hit exactly the output projections (and their biases) of every layer.
      for (const filter of arch.identityFilters) {
        const hits = names.filter((n) => n.includes(filter))
        assert.ok(hits.length >= numLayers, `${filter} hits ${hits.length} tensors`)
        for (const h of hits) {
          const t = match.tensors.find((x) => x.stored === h)
          assert.ok(t && ['o_proj', 'o_bias', 'down_proj', 'down_bias'].includes(t.role), `${filter} hit ${h}`)
        }
      }
      // lm_head is planned exactly when stored (as mergekit does); an untied model must store it.
      const tied = config[arch.tiedEmbeddingsKey ?? 'tie_word_embeddings'] ?? arch.tiedEmbeddingsDefault
      const head = match.tensors.find((t) => t.role === 'lm_head')
      assert.equal(head !== undefined, head?.stored !== undefined && names.includes(head.stored))
      if (tied !== true) {
        assert.ok(head && !head.tied, 'untied model must plan its own lm_head')
      }
    })
  }
})

describe('architecture resolution order', () => {
  it('prefers architectures[0], then falls back to model_type', () => {
    assert.equal(resolveArchitecture({architectures: ['Qwen3ForCausalLM'], model_type: 'llama'}).name, 'qwen3')
    assert.equal(resolveArchitecture({model_type: 'gemma2'}).name, 'gemma2')
    assert.equal(resolveArchitecture({architectures: ['Gemma2Unknown'], model_type: 'phi3'}).name, 'phi3')
  })

  it('the template of an absent required tensor is reported missing', () => {
    const arch = resolveArchitecture({model_type: 'phi'})
    const names = storedNames(join(GENERATED, 'phi')).filter((n) => n !== 'lm_head.bias')
    const match = matchCheckpoint({arch, numLayers: 3, names})
    assert.deepEqual(match.missing, ['lm_head.bias'])
  })

  it('a checkpoint stored under aliases (gpt2 without the transformer. prefix) still matches', () => {
    const arch = resolveArchitecture({model_type: 'gpt2'})
    const names = storedNames(join(GENERATED, 'gpt2')).map((n) => n.replace(/^transformer\./, ''))
    const match = matchCheckpoint({arch, numLayers: 3, names})
    assert.deepEqual([match.missing, match.unclaimed], [[], []])
    assert.equal(match.tensors[0]?.name, 'transformer.wte.weight')
    assert.equal(match.tensors[0]?.stored, 'wte.weight')
  })
})
