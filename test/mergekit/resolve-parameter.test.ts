import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import fc from 'fast-check'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {layerMap} from '../../src/mergekit/layer-map.js'
import {resolveParameter} from '../../src/mergekit/resolve-parameter.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {resolveArchitecture} from '../../src/architectures/registry.js'
import {substituteTemplate} from '../../src/architectures/template.js'
import type {MergeConfig, ParameterSetting} from '../../src/mergekit/merge-config.js'
import {mergekitCheck, type ScaleQuery} from './mergekit-check.js'
import {ROOT} from '../helpers/cli.js'

const LLAMA = resolveArchitecture({model_type: 'llama'})
const DIR = `${ROOT}fixtures/mergekit-configs/`

/** Every tensor mergekit resolves `scale` for: pre (slice 0, t 0), layers (source names, slice t), post (last slice, t 0). */
function queriesFor(config: MergeConfig): ScaleQuery[] {
  const slices = config.slices ?? []
  const queries: ScaleQuery[] = []
  const first = slices[0]?.sources[0]
  const last = slices.at(-1)?.sources[0]
  for (const w of LLAMA.preWeights) {
    queries.push({slice: 0, model: first?.model ?? '', tensorName: w.name, t: 0})
  }
  for (const e of layerMap(config)) {
    for (const w of LLAMA.layerWeights) {
      queries.push({slice: e.slice, model: e.model, tensorName: substituteTemplate(w.name, {layerIndex: e.source}), t: e.t})
    }
  }
  for (const w of LLAMA.postWeights) {
    queries.push({slice: slices.length - 1, model: last?.model ?? '', tensorName: w.name, t: 0})
  }
  return queries
}

const ours = (config: MergeConfig, qs: ScaleQuery[]): (number | null)[] =>
  qs.map((q) => resolveParameter(config, 'scale', q) ?? null)

// Random `scale` settings: scalars, gradients, filter lists (substrings of real tensor names).
const FILTERS = ['o_proj', 'down_proj', 'mlp', 'norm', 'layers.1', '*', 'self_attn.q', 'embed', 'nomatch']
const scalar = fc.oneof(fc.constantFrom(0, 1, 0.5, -2), fc.double({min: -4, max: 4, noNaN: true, noDefaultInfinity: true}))
const gradient = fc.array(scalar, {minLength: 1, maxLength: 5})
const value = fc.oneof(scalar, gradient)
const conditional = fc.record({filter: fc.option(fc.constantFrom(...FILTERS), {nil: undefined}), value}, {requiredKeys: ['value']})
const setting: fc.Arbitrary<ParameterSetting> = fc.oneof(scalar, gradient, conditional, fc.array(conditional, {minLength: 1, maxLength: 4}))
const maybeScale = fc.option(setting.map((s) => ({scale: s})), {nil: undefined, freq: 2})
const randomConfig: fc.Arbitrary<MergeConfig> = fc
  .record({
    top: maybeScale,
    slices: fc.array(
      fc.record({
        start: fc.nat(6),
        len: fc.integer({min: 1, max: 4}),
        model: fc.constantFrom('a', 'b'),
        slice: maybeScale,
        source: maybeScale,
      }),
      {minLength: 1, maxLength: 5},
    ),
  })
  .map(({top, slices}) => {
    const config: MergeConfig = {
      merge_method: 'passthrough',
      slices: slices.map((s) => ({
        sources: [{model: s.model, layer_range: [s.start, s.start + s.len], ...(s.source ? {parameters: s.source} : {})}],
        ...(s.slice ? {parameters: s.slice} : {}),
      })),
    }
    if (top) {
      config.parameters = top
    }
    return config
  })

describe('resolveParameter matches mergekit', () => {
  it('on the scaled reference configs and on random settings (gradients, filters, precedence)', () => {
    const texts = ['openchat-3.5-0106-40layers-appended-scale.yaml', 'openchat-3.5-0106-40layers-interleaved-scale.yaml'].map((f) =>
      readFileSync(DIR + f, 'utf8'),
    )
    const random = fc.sample(randomConfig, {numRuns: 80, seed: 20261126}).map(toYaml)
    const all = [...texts, ...random]
    const configs = all.map((t) => parseMergeConfig(t, 'x.yaml').config)
    const queries = configs.map(queriesFor)
    const verdicts = mergekitCheck(all.map((yaml, i) => ({yaml, queries: queries[i]})))
    let compared = 0
    let scaled = 0
    for (const [i, config] of configs.entries()) {
      const v = verdicts[i]
      assert.ok(v?.ok, `mergekit refused config ${i}: ${JSON.stringify(v)}\n${all[i]}`)
      const mine = ours(config, queries[i] ?? [])
      assert.deepEqual(mine, v.scales, `config ${i}:\n${all[i]}`)
      compared += mine.length
      scaled += mine.filter((x) => x !== null).length
    }
    assert.ok(compared > 2000 && scaled > 500, `too few comparisons: ${compared} (${scaled} with a scale)`)
  })

  it('identity-copy idiom: o_proj/down_proj of the copies are 0, embed untouched, head from the last slice', () => {
    const {config} = parseMergeConfig(readFileSync(DIR + 'openchat-3.5-0106-40layers-appended-scale.yaml', 'utf8'), 'x')
    const m = 'openchat/openchat-3.5-0106'
    assert.equal(resolveParameter(config, 'scale', {slice: 1, model: m, tensorName: 'model.layers.31.self_attn.o_proj.weight', t: 1}), 0)
    assert.equal(resolveParameter(config, 'scale', {slice: 1, model: m, tensorName: 'model.layers.31.mlp.up_proj.weight', t: 1}), 1)
    assert.equal(resolveParameter(config, 'scale', {slice: 0, model: m, tensorName: 'model.layers.31.self_attn.o_proj.weight', t: 1}), undefined)
    assert.equal(resolveParameter(config, 'scale', {slice: 0, model: m, tensorName: 'model.embed_tokens.weight', t: 0}), undefined)
    const last = (config.slices?.length ?? 0) - 1
    assert.equal(resolveParameter(config, 'scale', {slice: last, model: m, tensorName: 'lm_head.weight', t: 0}), 1)
  })
})
