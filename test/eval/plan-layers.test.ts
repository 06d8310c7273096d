import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {ConfigError} from '../../src/errors.js'
import {planLayers} from '../../src/eval/plan-layers.js'
import {mergeModelIter} from '../../src/merge/merge-model.js'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {STORIES} from '../helpers/cli.js'
import {maxDiffTokens, writeReferences} from '../onnx/reference.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-plan-'))

// Layer 2 copied twice: once scaled by 0.5 (o_proj and down_proj), once as a LLaMA-Pro identity copy.
const PLAN = `slices:
  - sources:
      - model: ${STORIES}
        layer_range: [0, 3]
  - sources:
      - model: ${STORIES}
        layer_range: [2, 3]
        parameters:
          scale:
            - filter: o_proj
              value: 0.5
            - filter: down_proj
              value: 0.5
            - value: 1
  - sources:
      - model: ${STORIES}
        layer_range: [2, 3]
        parameters:
          scale:
            - filter: o_proj
              value: 0
            - filter: down_proj
              value: 0
            - value: 1
  - sources:
      - model: ${STORIES}
        layer_range: [3, 5]
merge_method: passthrough
dtype: float32
`

describe('planLayers', () => {
  it('reads the layer sequence and per-copy output scales; the zero-copy graph equals the merged model (mergekit-yaml and dlec\'s native engine) run in transformers', async () => {
    const file = join(work, 'plan.yaml')
    writeFileSync(file, PLAN)
    const plan = await planLayers({file, modelDir: STORIES})
    assert.deepEqual(plan.layers, [0, 1, 2, 2, 2, 3, 4])
    assert.deepEqual(plan.scales, [undefined, undefined, undefined, {attn: 0.5, mlp: 0.5}, {attn: 0, mlp: 0}, undefined, undefined])
    const merged = join(work, 'merged')
    execFileSync('mergekit-yaml', [file, merged], {stdio: 'ignore'})
    const native = join(work, 'native')
    const it = mergeModelIter({config: file, out: native, engine: 'native', outShardSize: 1e9})
    for (let r = await it.next(); r.done !== true; r = await it.next()) {
      // drain progress events
    }
    const refs = writeReferences({merged, native})
    const dec = await openDecoder({modelDir: STORIES, cacheDir: join(work, 'cache'), threads: 1})
    try {
      for (const name of ['merged', 'native']) {
        const ref = refs(name)
        const out = await dec.run({inputIds: ref.ids, layers: plan.layers, scales: plan.scales, outputs: {logits: 'all', hidden: 'all'}})
        const d = maxDiffTokens(out.outputs.logits?.data as Float32Array, ref.read('logits'), ref.lengths, dec.spec.vocab)
        assert.ok(d <= 1e-4, `logits differ from the ${name} merge by ${d}`)
        for (let k = 0; k < plan.layers.length; k++) {
          const h = maxDiffTokens(out.outputs[`hidden_${k}`]?.data as Float32Array, ref.read(`hidden_${k}`), ref.lengths, dec.spec.hidden)
          assert.ok(h <= 1e-4, `hidden state ${k} differs from the ${name} merge by ${h}`)
        }
      }
    } finally {
      await dec.release()
    }
  })

  it('refuses scales the shared weights cannot express, naming the tensor', async () => {
    const file = join(work, 'bad.yaml')
    writeFileSync(file, PLAN.replace('filter: o_proj\n              value: 0.5', 'filter: q_proj\n              value: 0.5'))
    await assert.rejects(planLayers({file, modelDir: STORIES}), (e: unknown) => e instanceof ConfigError && /scale 0\.5 on model\.layers\.2\.self_attn\.q_proj\.weight/.test(e.message))
  })
})
