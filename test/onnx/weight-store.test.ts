import assert from 'node:assert/strict'
import {execFile, spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {promisify} from 'node:util'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {DlecError, ModelError} from '../../src/errors.js'
import {acquireBuildLock} from '../../src/onnx/weight-build.js'
import {openDecoder} from '../../src/onnx/open-decoder.js'
import {readWeightFiles} from '../../src/model/weight-files.js'
import {GENERATED, ROOT} from '../helpers/cli.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-store-'))
const IDS = [
  [5, 9, 100, 7, 300],
  [11, 12],
]

async function logits(modelDir: string, quant: 'fp32' | 'int4' | 'w8a8', chunkBytes: number | undefined, cache: string): Promise<Float32Array> {
  const dec = await openDecoder({modelDir, cacheDir: join(work, cache), quant, chunkBytes, threads: 1})
  try {
    return (await dec.run({inputIds: IDS, outputs: {logits: 'all'}})).outputs.logits?.data as Float32Array
  } finally {
    await dec.release()
  }
}

describe('weight store', () => {
  for (const quant of ['fp32', 'int4', 'w8a8'] as const) {
    it(`bf16 -> ${quant} conversion in tiny chunks equals whole-tensor conversion`, async () => {
      const dir = join(GENERATED, 'llama-bf16')
      const whole = await logits(dir, quant, undefined, `whole-${quant}`)
      const chunked = await logits(dir, quant, 96, `chunked-${quant}`)
      assert.deepEqual(chunked, whole)
    })
  }

  it('a NaN deep inside a tensor is found (chunked) and named with its element index', async () => {
    const dir = join(work, 'nan')
    cpSync(join(GENERATED, 'llama'), dir, {recursive: true})
    const t = (await readWeightFiles(dir)).tensors.get('model.embed_tokens.weight')
    assert.ok(t)
    const bytes = readFileSync(t.file)
    bytes.writeFloatLE(Number.POSITIVE_INFINITY, t.offset + 4 * 5000)
    writeFileSync(t.file, bytes)
    await assert.rejects(
      openDecoder({modelDir: dir, cacheDir: join(work, 'nan-cache'), chunkBytes: 200}),
      (e: unknown) => e instanceof ModelError && /tensor model\.embed_tokens\.weight contains Infinity at element 5000/.test(e.message),
    )
  })

  it('a bf16 NaN in a projection is found by the fused w8a8 conversion and named with its element index', async () => {
    const dir = join(work, 'nan-bf16')
    cpSync(join(GENERATED, 'llama-bf16'), dir, {recursive: true})
    const t = (await readWeightFiles(dir)).tensors.get('model.layers.1.mlp.down_proj.weight')
    assert.ok(t && t.dtype === 'BF16')
    const width = t.shape[1] as number
    const element = 5 * width + 3 // row 5: the second group of 4 rows
    const bytes = readFileSync(t.file)
    bytes.writeUInt16LE(0x7f_c0, t.offset + 2 * element) // bf16 quiet NaN
    writeFileSync(t.file, bytes)
    await assert.rejects(
      openDecoder({modelDir: dir, cacheDir: join(work, 'nan-bf16-cache'), quant: 'w8a8'}),
      (e: unknown) => e instanceof ModelError && new RegExp(`tensor model\\.layers\\.1\\.mlp\\.down_proj\\.weight contains NaN at element ${element} `).test(e.message),
    )
  })

  /** Every file of a cache folder tree that a build leaves only while it runs. */
  const leftovers = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir, {recursive: true}).map(String).filter((f) => /\.tmp-\d+$|\.lock/.test(f)) : [])

  it('two processes building the same w8a8 cache at once both get the same, correct weights, and leave no temporary or lock file', async () => {
    const cache = join(work, 'race')
    const run = promisify(execFile)
    const child = (c: string): Promise<{stdout: string}> => run(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/decoder-child.ts'), join(GENERATED, 'llama-bf16'), c, 'w8a8'], {cwd: ROOT})
    const [a, b] = await Promise.all([child(cache), child(cache)])
    const alone = await child(join(work, 'race-alone'))
    assert.equal(a.stdout, alone.stdout)
    assert.equal(b.stdout, alone.stdout)
    assert.deepEqual(leftovers(cache), [])
  })

  it('an aborted build ends as interrupted, leaves no temporary or lock file, and the next build completes', async () => {
    const cache = join(work, 'abort')
    const controller = new AbortController()
    const it = (await import('../../src/onnx/open-decoder.js')).openDecoderIter({modelDir: join(GENERATED, 'llama-bf16'), cacheDir: cache, quant: 'w8a8', chunkBytes: 256, signal: controller.signal})
    let events = 0
    await assert.rejects(
      (async () => {
        for (let r = await it.next(); r.done !== true; r = await it.next()) {
          events++
          controller.abort()
        }
      })(),
      (e: unknown) => e instanceof DlecError && e.kind === 'interrupted',
    )
    assert.ok(events >= 1)
    assert.deepEqual(leftovers(cache), [])
    assert.ok(!readdirSync(cache, {recursive: true}).map(String).some((f) => f.endsWith('.json') && f.includes('w8a8')), 'no index of a half-built cache')
    const after = await logits(join(GENERATED, 'llama-bf16'), 'w8a8', undefined, 'abort')
    assert.deepEqual(after, await logits(join(GENERATED, 'llama-bf16'), 'w8a8', undefined, 'abort-fresh'))
  })

  it('a lock left by a dead process is taken over and its temporary files are removed', async () => {
    const dir = join(work, 'stale')
    mkdirSync(dir, {recursive: true})
    const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid as number
    mkdirSync(join(dir, 'weights-x.lock'))
    writeFileSync(join(dir, 'weights-x.lock', 'pid'), String(dead))
    writeFileSync(join(dir, `weights-x.bin.tmp-${dead}`), 'half')
    const release = await acquireBuildLock(join(dir, 'weights-x.lock'), () => false)
    assert.ok(release)
    assert.equal(readFileSync(join(dir, 'weights-x.lock', 'pid'), 'utf8'), String(process.pid))
    assert.ok(!existsSync(join(dir, `weights-x.bin.tmp-${dead}`)))
    release()
    assert.deepEqual(leftovers(dir), [])
  })

  it('a lock folder without a PID (its maker died before writing it) or with garbage in it does not block a build', async () => {
    const dir = join(work, 'no-pid')
    mkdirSync(join(dir, 'weights-x.lock'), {recursive: true})
    const first = await acquireBuildLock(join(dir, 'weights-x.lock'), () => false)
    assert.ok(first)
    assert.equal(readFileSync(join(dir, 'weights-x.lock', 'pid'), 'utf8'), String(process.pid))
    first()
    mkdirSync(join(dir, 'weights-x.lock'))
    writeFileSync(join(dir, 'weights-x.lock', 'pid'), 'not a pid')
    const second = await acquireBuildLock(join(dir, 'weights-x.lock'), () => false)
    assert.ok(second)
    assert.equal(readFileSync(join(dir, 'weights-x.lock', 'pid'), 'utf8'), String(process.pid))
    second()
    assert.deepEqual(leftovers(dir), [])
  })

  it('a live holder keeps the lock: a second taker waits until it is released', async () => {
    const dir = join(work, 'held')
    mkdirSync(dir, {recursive: true})
    const lock = join(dir, 'weights-x.lock')
    const held = await acquireBuildLock(lock, () => false)
    assert.ok(held)
    let taken = false
    const waiting = acquireBuildLock(lock, () => false).then((r) => {
      taken = true
      return r
    })
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.equal(taken, false, 'the lock was taken while its holder was alive')
    held()
    const next = await waiting
    assert.ok(next)
    next()
    assert.deepEqual(leftovers(dir), [])
  })
})
