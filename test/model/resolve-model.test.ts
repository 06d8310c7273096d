import assert from 'node:assert/strict'
import {copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {after, describe, it} from 'node:test'
import {HubError, ModelError} from '../../src/errors.js'
import {loadModelConfig} from '../../src/model/load-model-config.js'
import {resolveModel} from '../../src/model/resolve-model.js'
import {ShardedTensorIndex} from '../../src/safetensors/reader.js'
import {STORIES} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-resolve-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const COMMIT = '0123456789abcdef0123456789abcdef01234567'

/** An HF hub cache holding stories260K the way huggingface_hub lays it out: blobs + symlinked snapshot + refs/main. */
function buildCache(root: string, opts: {skip?: string} = {}): string {
  const repo = join(root, 'models--karpathy--stories260K')
  mkdirSync(join(repo, 'blobs'), {recursive: true})
  mkdirSync(join(repo, 'refs'), {recursive: true})
  const snapshot = join(repo, 'snapshots', COMMIT)
  mkdirSync(snapshot, {recursive: true})
  let n = 0
  for (const file of readdirSync(STORIES)) {
    if (file === opts.skip) {
      continue
    }
    const blob = `b${(n++).toString().padStart(3, '0')}`
    copyFileSync(join(STORIES, file), join(repo, 'blobs', blob))
    symlinkSync(`../../blobs/${blob}`, join(snapshot, file))
  }
  writeFileSync(join(repo, 'refs', 'main'), COMMIT)
  return snapshot
}

describe('resolveModel', () => {
  it('takes a local folder as is', async () => {
    const got = await resolveModel({model: STORIES})
    assert.equal(got.dir, resolve(STORIES))
    assert.equal(got.revision, undefined)
  })

  it('finds a Hub id in the HF cache through refs/main, and by commit', async () => {
    const cache = join(tmp, 'hub1')
    const snapshot = buildCache(cache)
    const got = await resolveModel({model: 'karpathy/stories260K', cacheDir: cache, offline: true})
    assert.deepEqual(got, {dir: snapshot, id: 'karpathy/stories260K', revision: COMMIT})
    const byCommit = await resolveModel({model: 'karpathy/stories260K', revision: COMMIT, cacheDir: cache, offline: true})
    assert.equal(byCommit.dir, snapshot)
    // The snapshot's symlinked files read through the safetensors reader.
    const index = await ShardedTensorIndex.open(got.dir)
    assert.deepEqual(index.info('model.embed_tokens.weight').shape, [512, 64])
    await index.close()
    assert.equal((await loadModelConfig(got.dir)).model_type, 'llama')
  })

  it('offline and not cached (or only partly cached): a HubError naming the id', async () => {
    const cache = join(tmp, 'hub2')
    buildCache(cache, {skip: 'model.safetensors'})
    await assert.rejects(resolveModel({model: 'karpathy/stories260K', cacheDir: cache, offline: true}), (e: unknown) => {
      assert.ok(e instanceof HubError)
      assert.match(e.message, /karpathy\/stories260K: not in the Hugging Face cache .* HF_HUB_OFFLINE is set/)
      return true
    })
    await assert.rejects(resolveModel({model: 'karpathy/stories260K', revision: 'v2', cacheDir: cache, offline: true}), /stories260K@v2: not in/)
  })

  it('rejects things that are neither folders nor Hub ids', async () => {
    await assert.rejects(resolveModel({model: './nope/here', cacheDir: tmp}), ModelError)
    await assert.rejects(resolveModel({model: '../x/y', cacheDir: tmp}), /not a Hub model id/)
    await assert.rejects(resolveModel({model: join(STORIES, 'config.json')}), /not a folder/)
  })
})

describe('loadModelConfig', () => {
  it('names the file on missing or malformed config.json', async () => {
    const dir = join(tmp, 'cfg')
    mkdirSync(dir)
    await assert.rejects(loadModelConfig(dir), /cfg\/config\.json: not found/)
    writeFileSync(join(dir, 'config.json'), '{"a": ')
    await assert.rejects(loadModelConfig(dir), /cfg\/config\.json: not valid JSON/)
    writeFileSync(join(dir, 'config.json'), '[1]')
    await assert.rejects(loadModelConfig(dir), /not a JSON object/)
    writeFileSync(join(dir, 'config.json'), '{"architectures": "LlamaForCausalLM"}')
    await assert.rejects(loadModelConfig(dir), /"architectures" must be a list/)
  })
})
