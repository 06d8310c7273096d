import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {ModelError, SafetensorsParseError} from '../../src/errors.js'
import {ShardedTensorIndex} from '../../src/safetensors/reader.js'
import {GENERATED, python, ROOT, STORIES} from '../helpers/cli.js'
import {f32Tensor, writeSafetensors} from '../helpers/safetensors-file.js'

interface Digest {
  dtype: string
  shape: number[]
  sha256: string
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')
const tmp = mkdtempSync(join(tmpdir(), 'dlec-reader-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

async function rejects(dir: string, error: typeof SafetensorsParseError | typeof ModelError, pattern: RegExp): Promise<void> {
  await assert.rejects(ShardedTensorIndex.open(dir), (e: unknown) => {
    assert.ok(e instanceof error, `expected ${error.name}, got ${String(e)}`)
    assert.match((e as Error).message, pattern)
    return true
  })
}

/** A copy of the sharded llama fixture in a temp folder, to break. */
function shardedCopy(name: string): string {
  const dir = join(tmp, name)
  mkdirSync(dir)
  for (const file of readdirSync(join(GENERATED, 'llama-sharded'))) {
    copyFileSync(join(GENERATED, 'llama-sharded', file), join(dir, file))
  }
  return dir
}

describe('ShardedTensorIndex on real checkpoints', () => {
  for (const [label, dir] of [
    ['stories260K', STORIES],
    ['llama-sharded', join(GENERATED, 'llama-sharded')],
    ['llama-bf16', join(GENERATED, 'llama-bf16')],
  ] as const) {
    it(`${label}: every tensor's dtype, shape and bytes equal the safetensors library's`, async () => {
      const expected = JSON.parse(
        execFileSync(python(), [join(ROOT, 'test/python/safetensors_digest.py'), dir], {encoding: 'utf8'}),
      ) as Record<string, Digest>
      const index = await ShardedTensorIndex.open(dir)
      try {
        assert.deepEqual(index.names().sort(), Object.keys(expected).sort())
        for (const [name, want] of Object.entries(expected)) {
          const info = index.info(name)
          assert.equal(info.dtype, want.dtype, name)
          assert.deepEqual(info.shape, want.shape, name)
          assert.equal(sha(await index.read(name)), want.sha256, name)
        }
        // Streaming in odd-sized chunks gives the same bytes.
        const name = index.names()[0] ?? ''
        const parts: Buffer[] = []
        for await (const chunk of index.chunks(name, {chunkBytes: 1000})) {
          assert.ok(chunk.byteLength <= 1000)
          parts.push(Buffer.from(chunk))
        }
        assert.equal(sha(Buffer.concat(parts)), expected[name]?.sha256)
      } finally {
        await index.close()
      }
    })
  }

  it('names a missing tensor', async () => {
    const index = await ShardedTensorIndex.open(STORIES)
    assert.equal(index.has('model.layers.99.mlp.up_proj.weight'), false)
    assert.throws(() => index.info('model.layers.99.mlp.up_proj.weight'), /tensor model\.layers\.99\.mlp\.up_proj\.weight not found/)
    await index.close()
  })
})

describe('ShardedTensorIndex refuses bad checkpoints by name', () => {
  it('missing shard', async () => {
    const dir = shardedCopy('missing')
    rmSync(join(dir, 'model-00003-of-00004.safetensors'))
    await rejects(dir, SafetensorsParseError, /shard model-00003-of-00004\.safetensors.*not found/)
  })

  it('truncated shard', async () => {
    const dir = shardedCopy('truncated')
    truncateSync(join(dir, 'model-00002-of-00004.safetensors'), 100_000)
    await rejects(dir, SafetensorsParseError, /model-00002-of-00004\.safetensors: tensor .* past the \d+-byte data section/)
  })

  it('header length beyond the file', async () => {
    const dir = join(tmp, 'short')
    mkdirSync(dir)
    writeFileSync(join(dir, 'model.safetensors'), Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x7b]))
    await rejects(dir, SafetensorsParseError, /model\.safetensors: header length 65535 runs past the end of the 9-byte file/)
  })

  it('index naming a tensor its shard lacks', async () => {
    const dir = shardedCopy('lacks')
    const index = join(dir, 'model.safetensors.index.json')
    const json = JSON.parse(execFileSync('cat', [index], {encoding: 'utf8'})) as {weight_map: Record<string, string>}
    json.weight_map['model.layers.0.mlp.up_proj.weight'] = 'model-00004-of-00004.safetensors'
    writeFileSync(index, JSON.stringify(json))
    await rejects(dir, SafetensorsParseError, /tensor model\.layers\.0\.mlp\.up_proj\.weight is mapped to model-00004-of-00004\.safetensors, which does not contain it/)
  })

  it('weight_map path traversal and absolute paths', async () => {
    for (const bad of ['../outside.safetensors', '/etc/passwd', 'sub/../../x.safetensors', 'a\\b.safetensors']) {
      const dir = join(tmp, `traversal-${sha(Buffer.from(bad)).slice(0, 6)}`)
      mkdirSync(dir)
      writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({weight_map: {w: bad}}))
      await rejects(dir, SafetensorsParseError, /weight_map path .* for tensor w leaves the model folder/)
    }
  })

  it('symlinked shard pointing outside the folder', async () => {
    const outside = join(tmp, 'outside.safetensors')
    writeSafetensors(outside, [f32Tensor('w', [2])])
    const dir = join(tmp, 'symlink-out')
    mkdirSync(dir)
    symlinkSync(outside, join(dir, 'model.safetensors'))
    await rejects(dir, SafetensorsParseError, /resolves to .*outside\.safetensors, outside the model folder/)
  })

  it('accepts HF cache snapshots whose files link into the repo blobs, but not beyond the repo', async () => {
    const repo = join(tmp, 'hub', 'models--org--tiny')
    mkdirSync(join(repo, 'blobs'), {recursive: true})
    const snapshot = join(repo, 'snapshots', 'a'.repeat(40))
    mkdirSync(snapshot, {recursive: true})
    writeSafetensors(join(repo, 'blobs', 'deadbeef'), [f32Tensor('w', [3])])
    symlinkSync('../../blobs/deadbeef', join(snapshot, 'model.safetensors'))
    const index = await ShardedTensorIndex.open(snapshot)
    assert.deepEqual([...new Float32Array((await index.read('w')).buffer)], [0, 1, 2])
    await index.close()
    rmSync(join(snapshot, 'model.safetensors'))
    const other = join(tmp, 'hub', 'models--org--other.safetensors')
    writeSafetensors(other, [f32Tensor('w', [3])])
    symlinkSync('../../../models--org--other.safetensors', join(snapshot, 'model.safetensors'))
    await rejects(snapshot, SafetensorsParseError, /outside the model folder/)
  })

  it('a folder without safetensors', async () => {
    const dir = join(tmp, 'empty')
    mkdirSync(dir)
    await rejects(dir, ModelError, /no model\.safetensors or model\.safetensors\.index\.json/)
    writeFileSync(join(dir, 'pytorch_model.bin'), '')
    await rejects(dir, ModelError, /only pytorch_model\.bin weights/)
  })
})
