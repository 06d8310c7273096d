import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import fc from 'fast-check'
import {dump} from 'js-yaml'
import {layerMap} from '../../src/mergekit/layer-map.js'
import {MAX_OUTPUT_LAYERS} from '../../src/mergekit/merge-config.js'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {resolveParameter} from '../../src/mergekit/resolve-parameter.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {ROOT} from '../helpers/cli.js'
import {fuzzOptions, isTyped} from './fuzz-options.js'

const REFERENCE = join(ROOT, 'fixtures/mergekit-configs')
const references = readdirSync(REFERENCE).map((f) => readFileSync(join(REFERENCE, f), 'utf8'))

/** Values a hostile YAML puts where numbers, names and lists belong. */
const hostileScalar = fc.oneof(
  fc.integer({min: -5, max: 40}),
  fc.constantFrom(2 ** 53, 99999999, -1, 1e308, Number.NaN, Infinity, 0.5, '', 'abc', '3', 'nan', true, null),
  fc.string({maxLength: 8}),
)
const range = fc.oneof(fc.tuple(hostileScalar, hostileScalar), fc.array(hostileScalar, {maxLength: 3}), hostileScalar)
const params = fc.dictionary(fc.constantFrom('scale', 'weight', 'density', 'x'), fc.oneof(hostileScalar, fc.array(hostileScalar, {maxLength: 3}), fc.record({filter: fc.oneof(fc.string({maxLength: 6}), hostileScalar), value: hostileScalar}, {requiredKeys: []})), {maxKeys: 2})
const source = fc.record({model: fc.oneof(fc.constantFrom('m', 'org/name', '../x', 'a@rev', 'a+lora'), hostileScalar), layer_range: range, parameters: params}, {requiredKeys: []})
const config = fc.record(
  {
    merge_method: fc.oneof(fc.constantFrom('passthrough', 'linear', 'slerp', 'frobnicate'), hostileScalar),
    slices: fc.oneof(fc.array(fc.record({sources: fc.array(source, {maxLength: 3}), parameters: params}, {requiredKeys: []}), {maxLength: 5}), hostileScalar),
    models: fc.oneof(fc.array(fc.record({model: fc.constantFrom('m', 'n'), parameters: params}, {requiredKeys: []}), {maxLength: 3}), hostileScalar),
    dtype: fc.oneof(fc.constantFrom('float16', 'bfloat16', 'int3'), hostileScalar),
    parameters: params,
    base_model: fc.oneof(fc.constant('m'), hostileScalar),
  },
  {requiredKeys: []},
)

/** What parseMergeConfig accepts must be usable: bounded layer map, finite scales, and it re-emits. */
function checkAccepted(text: string): void {
  const {config: parsed} = parseMergeConfig(text, 'fuzz.yaml')
  const map = layerMap(parsed)
  assert.ok(map.length <= MAX_OUTPUT_LAYERS)
  for (const e of map) {
    const scale = resolveParameter(parsed, 'scale', {slice: e.slice, model: e.model, tensorName: 'model.layers.0.self_attn.o_proj.weight', t: e.t})
    assert.ok(scale === undefined || Number.isFinite(scale))
  }
  if (parsed.merge_method === 'passthrough' && parsed.slices) {
    parseMergeConfig(toYaml(parsed), 'again.yaml')
  }
}

function onlyConfigErrors(text: string): void {
  try {
    checkAccepted(text)
  } catch (error) {
    assert.ok(isTyped(error, ['config']), `${String(error)}\n--- input:\n${text}`)
  }
}

describe('fuzz: mergekit YAML loader and validator', () => {
  it('structured hostile configs: accepted ones are usable, the rest are one-line ConfigErrors', () => {
    fc.assert(fc.property(config, (c) => onlyConfigErrors(dump(c, {skipInvalid: true}))), fuzzOptions(700))
  })

  it('byte-level mutations of the published reference configs: only ConfigErrors', () => {
    const mutation = fc.tuple(fc.nat(references.length - 1), fc.nat(4000), fc.nat(20), fc.string({maxLength: 6}))
    fc.assert(
      fc.property(mutation, ([which, at, cut, insert]) => {
        const text = references[which] ?? ''
        const p = at % Math.max(1, text.length)
        onlyConfigErrors(text.slice(0, p) + insert + text.slice(p + cut))
      }),
      fuzzOptions(700),
    )
  })

  it('arbitrary text (anchors, tags, deep nesting included): only ConfigErrors', () => {
    const tokens = fc.array(fc.constantFrom('merge_method: passthrough\n', 'slices:\n', '- ', '  ', '&a ', '*a ', '<<: *a\n', '!!python/object ', '[', ']', '{', '}', ': ', '\n', '"', "'", '#', 'layer_range: [0, 1]\n', 'model: m\n', 'sources:\n', '\t', '\u0000', '\ufeff'), {maxLength: 40}).map((t) => t.join(''))
    fc.assert(fc.property(fc.oneof(tokens, fc.string({maxLength: 200})), onlyConfigErrors), fuzzOptions(700))
  })
})
