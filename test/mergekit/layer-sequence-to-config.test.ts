import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {UsageError} from '../../src/errors.js'
import {layerSequenceToConfig} from '../../src/mergekit/layer-sequence-to-config.js'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {layerMap} from '../../src/mergekit/layer-map.js'
import {resolveParameter} from '../../src/mergekit/resolve-parameter.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {resolveArchitecture} from '../../src/architectures/registry.js'
import {substituteTemplate} from '../../src/architectures/template.js'
import type {ArchitectureDefinition} from '../../src/architectures/schema.js'
import {mergekitCheck, type ScaleQuery} from './mergekit-check.js'

const ARCHS = ['llama', 'phi', 'gpt2', 'qwen3'].map((t) => resolveArchitecture({model_type: t}))
const sequence = fc.array(fc.nat(15), {minLength: 1, maxLength: 40})
const MODELS = ['org/model', 'fixtures/generated/llama', 'yes', '1e3', 'a b@rev', 'org/m+lora']

/** Fewest slices, computed independently: a new slice wherever the next layer is not previous+1 (or copy status flips). */
function expectedSlices(layers: number[], copies: boolean[]): number {
  let n = 1
  for (let i = 1; i < layers.length; i++) {
    if (layers[i] !== (layers[i - 1] ?? -2) + 1 || copies[i] !== copies[i - 1]) {
      n++
    }
  }
  return n
}

function copyFlags(layers: number[]): boolean[] {
  return layers.map((l, i) => layers.indexOf(l) < i)
}

function layerQueries(arch: ArchitectureDefinition, yamlModel: string, layers: number[], sliceOf: number[]): ScaleQuery[] {
  return layers.flatMap((src, out) =>
    arch.layerWeights.map((w) => ({slice: sliceOf[out] ?? -1, model: yamlModel, tensorName: substituteTemplate(w.name, {layerIndex: src}), t: 0})),
  )
}

describe('layerSequenceToConfig', () => {
  it('random sequences -> config -> YAML -> parse -> layer map is the sequence, in the fewest slices', () => {
    fc.assert(
      fc.property(sequence, fc.constantFrom(...MODELS), fc.boolean(), fc.constantFrom(...ARCHS), (layers, model, identityCopies, arch) => {
        const config = layerSequenceToConfig({model, layers, identityCopies, arch, dtype: 'bfloat16'})
        const parsed = parseMergeConfig(toYaml(config), 'plan.yaml')
        assert.deepEqual(parsed.warnings, [])
        assert.deepEqual(parsed.config, config)
        const map = layerMap(parsed.config)
        assert.deepEqual(map.map((e) => e.source), layers)
        assert.ok(map.every((e) => e.model === model))
        const copies = identityCopies ? copyFlags(layers) : layers.map(() => false)
        assert.equal(parsed.config.slices?.length, expectedSlices(layers, copies))
        for (const s of parsed.config.slices ?? []) {
          const [a, b] = s.sources[0]?.layer_range ?? [0, 0]
          assert.ok(b > a, 'no empty slices')
        }
      }),
      {numRuns: 300, seed: 7},
    )
  })

  it('the emitted YAML is accepted by mergekit, which reads the same slices and zeroes exactly the copies\' output projections', () => {
    const cases = fc.sample(fc.tuple(sequence, fc.constantFrom(...MODELS), fc.boolean(), fc.constantFrom(...ARCHS)), {numRuns: 120, seed: 11})
    const items = cases.map(([layers, model, identityCopies, arch]) => {
      const config = layerSequenceToConfig({model, layers, identityCopies, arch})
      const sliceOf = layerMap(config).map((e) => e.slice)
      return {yaml: toYaml(config), queries: layerQueries(arch, model, layers, sliceOf), config, layers, identityCopies, arch}
    })
    const verdicts = mergekitCheck(items)
    for (const [i, item] of items.entries()) {
      const v = verdicts[i]
      assert.ok(v?.ok, `mergekit refused:\n${item.yaml}\n${JSON.stringify(v)}`)
      assert.deepEqual(v.slices, (item.config.slices ?? []).map((s) => s.sources.map((x) => [x.model, ...x.layer_range])))
      // mergekit's own resolver: scale 0 on identity filters of copies, nothing elsewhere.
      const copies = copyFlags(item.layers)
      const expected = item.queries.map((q, k) => {
        const out = Math.floor(k / item.arch.layerWeights.length)
        const zero = item.identityCopies && copies[out] && item.arch.identityFilters.some((f) => q.tensorName.includes(f))
        return zero ? 0 : null
      })
      assert.deepEqual(v.scales, expected, item.yaml)
      assert.deepEqual(item.queries.map((q) => resolveParameter(item.config, 'scale', q) ?? null), expected)
    }
  })

  it('emits readable canonical YAML', () => {
    const phi = resolveArchitecture({model_type: 'phi'})
    const yaml = toYaml(layerSequenceToConfig({model: 'microsoft/phi-2', layers: [0, 1, 2, 2, 3, 3], identityCopies: true, arch: phi, dtype: 'float16'}))
    assert.equal(
      yaml,
      `merge_method: passthrough
dtype: float16
slices:
- sources:
  - model: microsoft/phi-2
    layer_range: [0, 3]
- sources:
  - model: microsoft/phi-2
    layer_range: [2, 3]
    parameters:
      scale:
      - filter: self_attn.dense
        value: 0
      - filter: mlp.fc2
        value: 0
- sources:
  - model: microsoft/phi-2
    layer_range: [3, 4]
- sources:
  - model: microsoft/phi-2
    layer_range: [3, 4]
    parameters:
      scale:
      - filter: self_attn.dense
        value: 0
      - filter: mlp.fc2
        value: 0
`,
    )
  })

  it('refuses an empty sequence, negative layers, unknown dtype, identity copies without an architecture', () => {
    assert.throws(() => layerSequenceToConfig({model: 'm', layers: []}), UsageError)
    assert.throws(() => layerSequenceToConfig({model: 'm', layers: [0, -1]}), /position 1: -1 is not a layer index/)
    assert.throws(() => layerSequenceToConfig({model: 'm', layers: [0], dtype: 'bf16'}), /unknown dtype "bf16"/)
    assert.throws(() => layerSequenceToConfig({model: 'm', layers: [0, 0], identityCopies: true}), /identity copies need the architecture/)
  })
})
