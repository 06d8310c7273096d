import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {ConfigError} from '../../src/errors.js'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {loadYaml} from '../../src/mergekit/load-yaml.js'
import {layerMap} from '../../src/mergekit/layer-map.js'
import {mergekitCheck} from './mergekit-check.js'

const slice = (model: string, a: unknown, b: unknown, extra = ''): string =>
  `- sources:\n  - model: ${model}\n    layer_range: [${String(a)}, ${String(b)}]\n${extra}`

function refuses(text: string, message: RegExp): void {
  assert.throws(
    () => parseMergeConfig(text, 'plan.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`)
      assert.match(e.message, message)
      assert.ok(!e.message.includes('\n'), 'message must be one line')
      return true
    },
  )
}

// YAML that mergekit users write (anchors + merge keys from mergekit issue #198, YAML 1.1 scalars).
const YAML_SAMPLES = [
  `merge_method: passthrough
scale_env: &scale_filter_env
  scale:
    - filter: o_proj
      value: 0.0
    - filter: down_proj
      value: 0.0
    - value: 1.0
slices:
  - sources:
    - model: m
      layer_range: [0, 2]
  - sources:
    - model: m
      layer_range: [1, 2]
      parameters:
        <<: *scale_filter_env
  - sources:
    - &src {model: m, layer_range: [2, 3]}
`,
  `merge_method: passthrough
base: &b {model: "org/m@main", layer_range: [0, 1]}
slices:
  - sources: [{<<: *b, layer_range: [0, 3]}]
  - sources: [*b]
dtype: bfloat16
flag: yes
n: 1_000
y: y
octal: 0o17
sci: 1e3
dot: .5
nothing: ~
dup: 1
dup: 2
`,
  `merge_method: linear
models:
  - model: a+lora@v1
    parameters: {weight: [0, 0.5, 1]}
  - model: {model: {path: b, revision: r2}}
    parameters:
      weight: {filter: mlp, value: 1e-3}
parameters: {normalize: on, int8_mask: Off}
`,
]

describe('parseMergeConfig', () => {
  it('loads YAML exactly as PyYAML safe_load does, and the config as mergekit does', () => {
    const verdicts = mergekitCheck(YAML_SAMPLES.map((yaml) => ({yaml})))
    for (const [i, text] of YAML_SAMPLES.entries()) {
      const v = verdicts[i]
      assert.ok(v?.ok, `mergekit refused sample ${i}: ${JSON.stringify(v)}`)
      assert.deepEqual(loadYaml(text, 's.yaml'), v.loaded, `sample ${i}`)
      const {config} = parseMergeConfig(text, 's.yaml')
      assert.equal(config.merge_method, v.merge_method)
      assert.equal(config.dtype ?? null, v.dtype)
      assert.deepEqual(
        (config.slices ?? []).map((s) => s.sources.map((x) => [x.model, ...x.layer_range])),
        v.slices,
      )
    }
    // The merge key really merged (and an explicit key overrode it).
    const {config} = parseMergeConfig(YAML_SAMPLES[1] ?? '', 's.yaml')
    assert.deepEqual(layerMap(config).map((e) => `${e.model}:${e.source}`), ['org/m@main:0', 'org/m@main:1', 'org/m@main:2', 'org/m@main:0'])
  })

  it('reports unknown keys as warnings, like mergekit ignores them', () => {
    const {warnings} = parseMergeConfig(
      `name: x\nmerge_method: passthrough\nslices:\n- sources:\n  - model: m\n    revision: main\n    layer_range: [0, 1]\n`,
      'plan.yaml',
    )
    assert.deepEqual(warnings, [
      'plan.yaml: name: unknown key, ignored (as mergekit does)',
      'plan.yaml: slices[0].sources[0].revision: unknown key, ignored (as mergekit does)',
    ])
  })

  it('warns on an empty [n, n] range (zero layers) but accepts it', () => {
    const {config, warnings} = parseMergeConfig(`merge_method: passthrough\nslices:\n${slice('m', 0, 2)}${slice('m', 5, 5)}`, 'plan.yaml')
    assert.equal(layerMap(config).length, 2)
    assert.equal(warnings.length, 1)
    assert.match(warnings[0] ?? '', /^plan\.yaml: slices\[1\]\.sources\[0\]\.layer_range: \[5, 5\] is empty: this slice adds zero layers/)
  })

  it('accepts lax numbers like pydantic ("3", 4.0)', () => {
    const {config} = parseMergeConfig(`merge_method: passthrough\nslices:\n${slice('m', '"3"', '4.0')}`, 'plan.yaml')
    assert.deepEqual(config.slices?.[0]?.sources[0]?.layer_range, [3, 4])
  })

  it('refuses bad input with one line naming the file and the place', () => {
    refuses('merge_method: passthrough\nslices: [\n', /^plan\.yaml: invalid YAML at line \d+, column \d+: /)
    refuses(`slices:\n${slice('m', 0, 2)}`, /^plan\.yaml: merge_method: is required/)
    refuses(`merge_method: 3\nslices:\n${slice('m', 0, 2)}`, /^plan\.yaml: merge_method: must be a string \(got number 3\)/)
    refuses(`merge_method: passthrough\nmodels:\n- model: m\nslices:\n${slice('m', 0, 2)}`, /^plan\.yaml: slices \/ models: give exactly one of slices, models, modules \(found both slices and models\)/)
    refuses('merge_method: passthrough\n', /^plan\.yaml: slices \/ models \/ modules: needs exactly one of/)
    refuses(`merge_method: passthrough\nslices:\n${slice('m', 0, 2)}${slice('m', 2, 4)}${slice('m', 9, 4)}`, /^plan\.yaml: slices\[2\]\.sources\[0\]\.layer_range: start 9 > end 4/)
    refuses(`merge_method: passthrough\nslices:\n${slice('m', 0.5, 2)}`, /^plan\.yaml: slices\[0\]\.sources\[0\]\.layer_range\[0\]: must be an integer \(got number 0.5\)/)
    refuses(`merge_method: passthrough\nslices:\n${slice('m', 0, 2)}`.replace('[0, 2]', '[0, 1, 2]'), /layer_range: must be a \[start, end\] pair \(got 3 items\)/)
    refuses(`merge_method: passthrough\nslices:\n${slice('m', 0, 2)}`.replace('[0, 2]', '"0-2"'), /layer_range: must be a list \(got string "0-2"\)/)
    refuses(`merge_method: passthrough\nslices:\n- sources: 3\n`, /^plan\.yaml: slices\[0\]\.sources: must be a list \(got number 3\)/)
    refuses(`merge_method: passthrough\nslices:\n- sources:\n  - layer_range: [0, 1]\n`, /^plan\.yaml: slices\[0\]\.sources\[0\]\.model: is required/)
    refuses(
      `merge_method: passthrough\nslices:\n${slice('a', 0, 2)}  - model: b\n    layer_range: [0, 2]\n`,
      /^plan\.yaml: slices\[0\]\.sources: passthrough takes exactly one source per slice \(found 2\)/,
    )
    refuses(
      `merge_method: linear\nslices:\n${slice('a', 0, 2)}  - model: b\n    layer_range: [0, 3]\n`,
      /^plan\.yaml: slices\[0\]\.sources: all sources of a slice must span the same number of layers \(found 2, 3\)/,
    )
    refuses(`merge_method: passthrough\ndtype: bfloat\nslices:\n${slice('m', 0, 2)}`, /^plan\.yaml: dtype: unknown dtype "bfloat" \(mergekit accepts bfloat16/)
    refuses(`merge_method: passthrough\nout_dtype: fp16\nslices:\n${slice('m', 0, 2)}`, /^plan\.yaml: out_dtype: unknown dtype "fp16"/)
    refuses(`merge_method: passthrough\nslices:\n${slice('a@b@c', 0, 2)}`, /slices\[0\]\.sources\[0\]\.model: cannot parse model reference "a@b@c"/)
    refuses(`merge_method: passthrough\nslices:\n${slice('a+b+c', 0, 2)}`, /cannot parse model reference "a\+b\+c"/)
    refuses(`merge_method: passthrough\ntokenizer_source: base\ntokenizer: {source: union}\nslices:\n${slice('m', 0, 2)}`, /^plan\.yaml: tokenizer: cannot be given together with tokenizer_source/)
    refuses(`merge_method: passthrough\nparameters:\n  scale: [{filter: a, value: 1}, 2]\nslices:\n${slice('m', 0, 2)}`, /^plan\.yaml: parameters\.scale: must be a list of numbers .* not a mix/)
    refuses('', /^plan\.yaml: is empty/)
    refuses('- a\n- b\n', /^plan\.yaml: \(document\): must be a mapping \(got a list of 2\)/)
  })

  it('mergekit itself refuses the schema errors we refuse (and accepts what we refuse only early)', () => {
    const schemaErrors = [
      `slices:\n${slice('m', 0, 2)}`,
      `merge_method: passthrough\nmodels:\n- model: m\nslices:\n${slice('m', 0, 2)}`,
      `merge_method: passthrough\nslices:\n${slice('m', 0.5, 2)}`,
      'merge_method: passthrough\n',
      `merge_method: passthrough\nslices:\n${slice('a@b@c', 0, 2)}`,
    ]
    // mergekit validates these and fails only during the merge; dlec refuses them up front.
    const lateErrors = [
      `merge_method: passthrough\nslices:\n${slice('m', 9, 4)}`,
      `merge_method: passthrough\ndtype: bfloat\nslices:\n${slice('m', 0, 2)}`,
      `merge_method: passthrough\nslices:\n${slice('a', 0, 2)}  - model: b\n    layer_range: [0, 2]\n`,
    ]
    const verdicts = mergekitCheck([...schemaErrors, ...lateErrors].map((yaml) => ({yaml})))
    assert.deepEqual(
      verdicts.map((v) => v.ok),
      [...schemaErrors.map(() => false), ...lateErrors.map(() => true)],
    )
  })
})
