import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {listArchitectures} from '../../src/architectures/registry.js'
import {substituteTemplate} from '../../src/architectures/template.js'
import {UsageError} from '../../src/errors.js'
import {baseParameterCount, parameterBreakdown, sequenceParameterCount} from '../../src/model/parameter-count.js'
import {parseGrowth, parseParameterCount, resolveTargetSize} from '../../src/curve/target-size.js'

/** phi-2's tensor shapes (d 2560, d_ff 10240, vocab 51200, 32 layers), written from its config. */
function phi2Shapes(): Map<string, {shape: number[]}> {
  const d = 2560
  const ff = 10240
  const v = 51200
  const layer: Record<string, number[]> = {
    'input_layernorm.bias': [d],
    'input_layernorm.weight': [d],
    'self_attn.dense.bias': [d],
    'self_attn.dense.weight': [d, d],
    'self_attn.q_proj.bias': [d],
    'self_attn.q_proj.weight': [d, d],
    'self_attn.k_proj.bias': [d],
    'self_attn.k_proj.weight': [d, d],
    'self_attn.v_proj.bias': [d],
    'self_attn.v_proj.weight': [d, d],
    'mlp.fc1.bias': [ff],
    'mlp.fc1.weight': [ff, d],
    'mlp.fc2.bias': [d],
    'mlp.fc2.weight': [d, ff],
  }
  const m = new Map<string, {shape: number[]}>([
    ['model.embed_tokens.weight', {shape: [v, d]}],
    ['lm_head.weight', {shape: [v, d]}],
    ['lm_head.bias', {shape: [v]}],
    ['model.final_layernorm.weight', {shape: [d]}],
    ['model.final_layernorm.bias', {shape: [d]}],
  ])
  for (let l = 0; l < 32; l++) {
    for (const [k, s] of Object.entries(layer)) {
      m.set(substituteTemplate(`model.layers.\${layer_index}.${k}`, {layerIndex: l, numLayers: 32}), {shape: s})
    }
  }
  return m
}

const phi = listArchitectures().find((a) => a.name === 'phi')
if (!phi) {
  throw new Error('phi architecture missing')
}
const phi2 = parameterBreakdown({arch: phi, config: {architectures: ['PhiForCausalLM'], num_hidden_layers: 32, tie_word_embeddings: false}, shapes: phi2Shapes()})

describe('parameter counts and target sizes (phi-2 figures from literature.md §1, §5)', () => {
  it('phi-2: 78,671,360 per block, 2.7797B in all, +6 blocks = 3.2517B', () => {
    assert.ok(phi2.perLayer.every((n) => n === 78_671_360))
    assert.equal(baseParameterCount(phi2), 2_779_683_840)
    const seq = [...Array.from({length: 32}, (_, i) => i), 7, 11, 15, 19, 23, 27]
    assert.equal(sequenceParameterCount(phi2, seq), 3_251_712_000)
  })

  it('--target-params 3.25B rounds to 6 added layers and says it was rounded', () => {
    const r = resolveTargetSize({breakdown: phi2, target: {targetParams: parseParameterCount('3.25B')}})
    assert.equal(r.addLayers, 6)
    assert.equal(r.params, 3_251_712_000)
    assert.equal(r.exact, false)
    assert.match(r.note, /rounded to the nearest achievable size, 6 added layers = 3,251,712,000/)
  })

  it('an exactly reachable target is exact; growth is in parameters', () => {
    const exact = resolveTargetSize({breakdown: phi2, target: {targetParams: 2_779_683_840 + 2 * 78_671_360}})
    assert.equal(exact.addLayers, 2)
    assert.equal(exact.exact, true)
    const g = resolveTargetSize({breakdown: phi2, target: {growth: parseGrowth('16%')}})
    // 2,779,683,840 * 1.16 = 3,224,433,254; (that - base) / 78,671,360 = 5.65 -> 6
    assert.equal(g.requestedParams, 3_224_433_254)
    assert.equal(g.addLayers, 6)
    assert.equal(g.exact, false)
    const a = resolveTargetSize({breakdown: phi2, target: {addLayers: 3}})
    assert.equal(a.params, 2_779_683_840 + 3 * 78_671_360)
    assert.equal(a.exact, true)
  })

  it('parses sizes and refuses targets that add nothing', () => {
    assert.equal(parseParameterCount('260K'), 260_000)
    assert.equal(parseParameterCount('1.5e9'), 1_500_000_000)
    assert.equal(parseParameterCount('7000000'), 7_000_000)
    assert.equal(parseGrowth('0.16'), 0.16)
    assert.throws(() => parseParameterCount('3.25 apples'), UsageError)
    assert.throws(() => parseGrowth('-5%'), UsageError)
    assert.throws(() => resolveTargetSize({breakdown: phi2, target: {targetParams: 2e9}}), /not larger than the model/)
    assert.throws(() => resolveTargetSize({breakdown: phi2, target: {targetParams: 2_779_683_840 + 1000}}), /closer to the original size/)
    assert.throws(() => resolveTargetSize({breakdown: phi2, target: {addLayers: 0}}), UsageError)
  })
})
