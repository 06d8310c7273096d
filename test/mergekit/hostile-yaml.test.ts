import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {ConfigError} from '../../src/errors.js'
import {layerMap} from '../../src/mergekit/layer-map.js'
import {MAX_LAYER_INDEX} from '../../src/mergekit/merge-config.js'
import {parseMergeConfig} from '../../src/mergekit/parse-merge-config.js'
import {readMergeConfig} from '../../src/mergekit/read-merge-config.js'
import {resolveParameter} from '../../src/mergekit/resolve-parameter.js'
import {validateMergeConfigFile} from '../../src/merge/validate-merge-config-file.js'
import {dlec, STORIES} from '../helpers/cli.js'
import {rejectsWith} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-yaml-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

const yaml = (slices: string, extra = ''): string => `merge_method: passthrough\nslices:\n${slices}${extra}`
const slice = (a: unknown, b: unknown, model = 'm'): string => `- sources:\n  - model: ${model}\n    layer_range: [${String(a)}, ${String(b)}]\n`

function refuses(text: string, message: RegExp): void {
  assert.throws(
    () => parseMergeConfig(text, 'bad.yaml'),
    (e: unknown) => e instanceof ConfigError && message.test(e.message) && !e.message.includes('\n'),
  )
}

describe('hostile mergekit YAML', () => {
  it('a layer_range end of 99999999 or 2^53 is refused at once, before any layer map is built', () => {
    refuses(yaml(slice(0, 99999999)), /^bad\.yaml: slices\[0\]\.sources\[0\]\.layer_range: end 99999999 is beyond dlec's limit of 10000 layers/)
    refuses(yaml(slice(0, 2 ** 53)), /layer_range: end 9007199254740992 is beyond dlec's limit/)
    refuses(yaml(slice(0, '"99999999999999999999"')), /layer_range: end 100000000000000000000 is beyond/)
    // The limit itself is accepted and its layer map is what it says.
    assert.equal(layerMap(parseMergeConfig(yaml(slice(0, MAX_LAYER_INDEX)), 'ok.yaml').config).length, MAX_LAYER_INDEX)
  })

  it('many slices that together exceed the output-layer limit are refused naming the slice', () => {
    refuses(yaml(slice(0, 6000) + slice(0, 6000)), /^bad\.yaml: slices\[1\]: the slices up to here produce 12000 output layers: more than dlec's limit of 10000/)
  })

  it('validating 9,000 one-layer slices is linear (config layers finishes; was quadratic)', async () => {
    const file = join(tmp, 'many.yaml')
    writeFileSync(file, yaml(Array.from({length: 9000}, (_, i) => slice(i % 5, (i % 5) + 1)).join('')))
    const report = await validateMergeConfigFile({file})
    assert.equal(report.outputLayers, 9000)
  })

  it("scale: 'abc' (and NaN, inf, '') is refused naming the place; numeric strings still work as in pydantic", () => {
    refuses(yaml(slice(0, 2), "parameters:\n  scale: 'abc'\n"), /^bad\.yaml: parameters\.scale: must be a finite number \(got string "abc"\)/)
    refuses(yaml(slice(0, 2), 'parameters:\n  scale: .nan\n'), /parameters\.scale: must be a finite number/)
    refuses(yaml(slice(0, 2), "parameters:\n  scale: ''\n"), /parameters\.scale: must be a finite number/)
    refuses(yaml(slice(0, 2), 'parameters:\n  scale: [1, abc]\n'), /parameters\.scale\[1\]: must be a finite number/)
    refuses(yaml(slice(0, 2), '  parameters:\n    scale:\n    - filter: o_proj\n      value: x\n'), /slices\[0\]\.parameters\.scale\[0\]\.value: must be a finite number/)
    const {config} = parseMergeConfig(yaml(slice(0, 2), "parameters:\n  scale: '0.5'\n"), 'ok.yaml')
    assert.equal(resolveParameter(config, 'scale', {slice: 0, model: 'm', tensorName: 'x.o_proj.weight', t: 0}), 0.5)
  })

  it('a config built in code with a non-numeric scale is refused when resolved (not merged into NaN)', () => {
    const {config} = parseMergeConfig(yaml(slice(0, 2)), 'ok.yaml')
    config.parameters = {scale: 'abc'}
    assert.throws(() => resolveParameter(config, 'scale', {slice: 0, model: 'm', tensorName: 'x.o_proj.weight', t: 0}), /parameter scale for x\.o_proj\.weight is not a finite number/)
  })

  it('merge_method: frobnicate is refused, listing mergekit 0.1.5 methods', () => {
    refuses(yaml(slice(0, 2)).replace('passthrough', 'frobnicate'), /^bad\.yaml: merge_method: unknown merge method "frobnicate" \(mergekit has arcee_fusion, .*passthrough.*ties\)/)
  })

  it('an all-empty-slices passthrough (0 layers) is refused', () => {
    refuses(yaml(slice(2, 2) + slice(3, 3)), /^bad\.yaml: slices: every slice is empty: the merged model would have 0 layers/)
  })

  it('non-UTF-8 YAML, a folder, a FIFO and a missing file are ConfigErrors naming the file (no hang)', async () => {
    const latin1 = join(tmp, 'latin1.yaml')
    writeFileSync(latin1, Buffer.concat([Buffer.from('merge_method: passthrough\n# caf'), Buffer.from([0xe9]), Buffer.from('\n')]))
    await rejectsWith(() => readMergeConfig(latin1), 'config', /latin1\.yaml: cannot read mergekit config \(is not valid UTF-8 text\)/)
    const folder = join(tmp, 'folder.yaml')
    mkdirSync(folder)
    await rejectsWith(() => readMergeConfig(folder), 'config', /folder\.yaml: cannot read mergekit config \(is a folder, not a file \(EISDIR\)\)/)
    const fifo = join(tmp, 'fifo.yaml')
    execFileSync('mkfifo', [fifo])
    await rejectsWith(() => readMergeConfig(fifo), 'config', /fifo\.yaml: cannot read mergekit config \(not a regular file/)
    await rejectsWith(() => readMergeConfig(join(tmp, 'absent.yaml')), 'config', /absent\.yaml: cannot read mergekit config \(no such file\)/)
  })

  it('dlec config validate: a 2^53 end exits 3 with one line and no stack; merge exits 3 and writes nothing', async () => {
    const file = join(tmp, 'huge.yaml')
    writeFileSync(file, yaml(slice(0, 2 ** 53, STORIES)))
    const validate = await dlec(['config', 'validate', file, '--model', STORIES])
    assert.equal(validate.code, 3)
    assert.match(validate.stderr.trim(), /^Error: .*huge\.yaml: slices\[0\]\.sources\[0\]\.layer_range: end 9007199254740992 is beyond dlec's limit of 10000 layers/)
    assert.equal(validate.stderr.trim().split('\n').length, 1)
    const out = join(tmp, 'huge-out')
    const merge = await dlec(['merge', file, out, '--engine', 'native'])
    assert.equal(merge.code, 3)
    assert.doesNotMatch(merge.stderr, /at .*\.js:\d+/)
  })
})
