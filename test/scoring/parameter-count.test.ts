import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {resolveArchitecture} from '../../src/architectures/registry.js'
import {readTensorShapes} from '../../src/model/read-tensor-shapes.js'
import {baseParameterCount, parameterBreakdown, sequenceParameterCount} from '../../src/model/parameter-count.js'
import {GENERATED, python, STORIES} from '../helpers/cli.js'
import {FAMILIES} from '../helpers/families.js'

const COUNTED = [...FAMILIES, 'llama-sharded']

async function breakdownOf(dir: string) {
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
  const arch = resolveArchitecture(config)
  return parameterBreakdown({arch, config, shapes: await readTensorShapes({dir}), source: dir})
}

describe('parameter counts from safetensors headers', () => {
  it('stories260K: 260,032 (README), 5 layers of 45,440', async () => {
    const b = await breakdownOf(STORIES)
    assert.equal(baseParameterCount(b), 260_032)
    assert.deepEqual(b.perLayer, [45_440, 45_440, 45_440, 45_440, 45_440])
    assert.equal(b.tiedEmbeddings, true)
    assert.equal(sequenceParameterCount(b, [0, 1, 2, 3, 3, 4]), 260_032 + 45_440)
  })

  it("every family equals transformers' num_parameters()", async () => {
    const dirs = [STORIES, ...COUNTED.map((f) => join(GENERATED, f))]
    const ref = JSON.parse(execFileSync(python(), ['test/python/count_parameters.py', ...dirs], {encoding: 'utf8'})) as Record<string, number>
    for (const dir of dirs) {
      const b = await breakdownOf(dir)
      assert.equal(baseParameterCount(b), ref[dir], dir)
    }
  })
})
