import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {layerSequenceToConfig} from '../../src/mergekit/layer-sequence-to-config.js'
import {toYaml} from '../../src/mergekit/to-yaml.js'
import {mergeModelIter} from '../../src/merge/merge-model.js'
import {ROOT} from '../helpers/cli.js'
import {copyStories, drain, leftovers, mountTmpfs, rejectsWith, treeSnapshot} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-merge-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

let n = 0
/** A fresh folder with a copy of stories260K (`model`) and a plan YAML for it. */
function setup(layers = [0, 1, 2, 3, 3, 4]): {dir: string; model: string; yaml: string} {
  const dir = join(tmp, `case-${n++}`)
  mkdirSync(dir)
  const model = copyStories(join(dir, 'model'))
  const yaml = join(dir, 'plan.yaml')
  writeFileSync(yaml, toYaml(layerSequenceToConfig({model, layers})))
  return {dir, model, yaml}
}

const merge = (yaml: string, out: string, extra: {force?: boolean; signal?: AbortSignal} = {}): Promise<unknown> =>
  drain(mergeModelIter({config: yaml, out, engine: 'native', outShardSize: 5e9, ...extra}))

describe('native merge: hostile model folders', () => {
  it('a tokenizer.json symlinked to a file outside the model is refused; nothing is copied or written', async () => {
    const {dir, model, yaml} = setup()
    const secret = join(dir, 'token')
    writeFileSync(secret, 'hf_secret\n')
    rmSync(join(model, 'tokenizer.json'))
    symlinkSync(secret, join(model, 'tokenizer.json'))
    const before = treeSnapshot(model)
    await rejectsWith(() => merge(yaml, join(dir, 'out')), 'merge', /tokenizer\.json: is a link to .*token, outside the model folder .*; refusing to copy it into the merged model/)
    assert.ok(!existsSync(join(dir, 'out')))
    assert.deepEqual(leftovers(dir), [])
    assert.deepEqual(treeSnapshot(model), before)
  })

  it('a FIFO as generation_config.json is refused (no hang)', async () => {
    const {dir, model, yaml} = setup()
    rmSync(join(model, 'generation_config.json'))
    execFileSync('mkfifo', [join(model, 'generation_config.json')])
    await rejectsWith(() => merge(yaml, join(dir, 'out')), 'merge', /generation_config\.json: not a regular file \(a FIFO, socket or device\)/)
    assert.deepEqual(leftovers(dir), [])
  })

  it('a symlink inside the model folder to another file of it is fine (copied as a regular file)', async () => {
    const {dir, model, yaml} = setup()
    writeFileSync(join(model, 'real-special.json'), readFileSync(join(model, 'special_tokens_map.json')))
    rmSync(join(model, 'special_tokens_map.json'))
    symlinkSync('real-special.json', join(model, 'special_tokens_map.json'))
    await merge(yaml, join(dir, 'out'))
    assert.deepEqual(readFileSync(join(dir, 'out', 'special_tokens_map.json')), readFileSync(join(model, 'real-special.json')))
  })

  it('model.safetensors that is a folder, or a FIFO, is a SafetensorsParseError (exit 5), no hang, nothing written', async () => {
    for (const kind of ['folder', 'fifo']) {
      const {dir, model, yaml} = setup()
      rmSync(join(model, 'model.safetensors'))
      if (kind === 'folder') {
        mkdirSync(join(model, 'model.safetensors'))
      } else {
        execFileSync('mkfifo', [join(model, 'model.safetensors')])
      }
      const e = await rejectsWith(() => merge(yaml, join(dir, 'out')), 'safetensors', /model\.safetensors: not a regular file \((a folder|a FIFO, socket or device)\)/)
      assert.equal(e.exitCode, 5)
      assert.deepEqual(leftovers(dir), [])
    }
  })

  it('merge --force into the real path of a source reached through a symlink is refused; the source survives', async () => {
    const {dir, model} = setup()
    symlinkSync(model, join(dir, 'link'))
    const yaml = join(dir, 'via-link.yaml')
    writeFileSync(yaml, toYaml(layerSequenceToConfig({model: join(dir, 'link'), layers: [0, 1, 1, 2, 3, 4]})))
    const before = treeSnapshot(model)
    await rejectsWith(() => merge(yaml, model, {force: true}), 'merge', /overlaps the source model folder .*link \(.*model\)/)
    assert.deepEqual(treeSnapshot(model), before)
    assert.deepEqual(leftovers(dir), [])
  })

  it('layer_types of the wrong length, and num_hidden_layers below the checkpoint, are refused (not copied through)', async () => {
    const a = setup()
    const config = JSON.parse(readFileSync(join(a.model, 'config.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(join(a.model, 'config.json'), JSON.stringify({...config, layer_types: ['full_attention', 'full_attention']}))
    await rejectsWith(() => merge(a.yaml, join(a.dir, 'out')), 'model', /config\.json: layer_types has 2 entries but num_hidden_layers is 5/)
    const b = setup([0, 1, 1, 2, 3])
    writeFileSync(join(b.model, 'config.json'), JSON.stringify({...config, num_hidden_layers: 4}))
    await rejectsWith(() => merge(b.yaml, join(b.dir, 'out')), 'merge', /config\.json: says num_hidden_layers 4 but the checkpoint has model\.layers\.4\.[a-z_.]+: config\.json undercounts the layers/)
    assert.deepEqual([...leftovers(a.dir), ...leftovers(b.dir)], [])
  })
})

describe('native merge: faults while writing', () => {
  it('an aborted merge (AbortSignal, as SIGINT/SIGTERM/SIGHUP give) leaves no OUT and no .OUT.dlec-partial-*', async () => {
    const {dir, yaml} = setup()
    const controller = new AbortController()
    const it = mergeModelIter({config: yaml, out: join(dir, 'out'), engine: 'native', outShardSize: 5e9, signal: controller.signal})
    let seen = 0
    await rejectsWith(async () => {
      for (;;) {
        const r = await it.next()
        if (r.done === true) {
          return
        }
        if (r.value.type === 'progress' && ++seen === 2) {
          controller.abort()
        }
      }
    }, 'interrupted', /merge into .*out interrupted; nothing was written/)
    assert.ok(!existsSync(join(dir, 'out')))
    assert.deepEqual(leftovers(dir), [])
  })

  it('a consumer that stops mid-merge (generator return) leaves nothing behind', async () => {
    const {dir, yaml} = setup()
    const it = mergeModelIter({config: yaml, out: join(dir, 'out'), engine: 'native', outShardSize: 5e9})
    for (;;) {
      const r = await it.next()
      if (r.done === true || r.value.type === 'progress') {
        break
      }
    }
    await it.return(undefined as never)
    assert.ok(!existsSync(join(dir, 'out')))
    assert.deepEqual(leftovers(dir), [])
  })

  it('a full disk (a 512 KiB tmpfs) is a MergeError naming OUT and ENOSPC (exit 6), with nothing left on the disk', async () => {
    const {dir, yaml} = setup()
    const disk = join(dir, 'disk')
    const unmount = mountTmpfs(disk, {sizeKb: 512})
    try {
      const e = await rejectsWith(() => merge(yaml, join(disk, 'out')), 'merge', /disk\/out \(writing model\.safetensors\): no space left on the device \(ENOSPC\); nothing was written/)
      assert.equal(e.code, 'DLEC_MERGE_NO_SPACE')
      assert.deepEqual(readdirSync(disk), [])
    } finally {
      unmount()
    }
  })

  it('a read-only output folder is a MergeError naming it and EROFS, not a misleading ENOENT', async () => {
    const {dir, yaml} = setup()
    const ro = join(dir, 'ro')
    const unmount = mountTmpfs(ro, {readOnly: true})
    try {
      await rejectsWith(() => merge(yaml, join(ro, 'out')), 'merge', /ro\/out: cannot create the output folder beside it \(read-only file system \(EROFS\)\)/)
    } finally {
      unmount()
    }
  })

  it('dlec merge under `ulimit -f` (file-size limit) exits 6 with one line and leaves no partial folder', async () => {
    const {dir, yaml} = setup()
    const out = join(dir, 'out')
    // the real bin, under a file-size limit smaller than the merged shard
    const r = ((): {code: number; stderr: string} => {
      try {
        execFileSync('bash', ['-c', `ulimit -f 256; exec "${process.execPath}" bin/run.js merge "${yaml}" "${out}" --engine native`], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']})
        return {code: 0, stderr: ''}
      } catch (error) {
        const e = error as {status: number; stderr: Buffer}
        return {code: e.status, stderr: e.stderr.toString()}
      }
    })()
    assert.equal(r.code, 6, r.stderr)
    assert.match(r.stderr.trim(), /^Error: .*out \(writing model\.safetensors\): file too large for this filesystem or the file-size limit \(ulimit -f\) \(EFBIG\); nothing was written$/)
    assert.ok(!existsSync(out))
    assert.deepEqual(leftovers(dir), [])
  })
})
