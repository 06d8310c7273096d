import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {loadTexts} from '../../src/data/load-texts.js'
import {profileModelIter, type ProfileParams} from '../../src/profile/profile-model.js'
import {openStore} from '../../src/store/open-store.js'
import {ROOT} from '../helpers/cli.js'
import {copyStories, drain, rejectsWith} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-resume-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

async function runStatus(dbPath: string, name: string): Promise<string> {
  const db = await openStore({path: dbPath, readOnly: true})
  try {
    const rows = await db.all('SELECT status FROM runs WHERE name = $1', [name])
    return String(rows[0]?.status)
  } finally {
    db.close()
  }
}

describe('profile: interrupted runs and --resume', async () => {
  const texts = await loadTexts({path: join(ROOT, 'fixtures/calibration/stories.txt')})
  const model = copyStories(join(tmp, 'model'))
  // A "fine-tune" of the same shape: same config.json and file sizes, every weight a little different.
  const tuned = copyStories(join(tmp, 'tuned'))
  const file = join(tuned, 'model.safetensors')
  const bytes = readFileSync(file)
  const dataStart = 8 + Number(bytes.readBigUInt64LE(0))
  for (let at = dataStart; at + 4 <= bytes.length; at += 4) {
    bytes.writeFloatLE(bytes.readFloatLE(at) * 1.001, at)
  }
  writeFileSync(file, bytes)
  const dbPath = join(tmp, 'p.duckdb')
  const base = (extra: Partial<ProfileParams>): ProfileParams => ({modelDir: model, cacheDir: join(tmp, 'cache'), dbPath, texts, dataSource: 'stories.txt', batchSize: 2, threads: 1, ...extra})

  it('an abort (as SIGTERM gives) marks the run failed and resumable', async () => {
    const controller = new AbortController()
    const it = profileModelIter(base({name: 'a', raw: {kind: 'first-token'}, signal: controller.signal}))
    await rejectsWith(async () => {
      for (;;) {
        const r = await it.next()
        if (r.done === true) {
          return
        }
        if (r.value.type === 'batch') {
          controller.abort()
        }
      }
    }, 'interrupted', /profile run "a" interrupted after 2\/20 samples; continue it with --resume a/)
    assert.equal(await runStatus(dbPath, 'a'), 'failed')
  })

  it('a consumer that stops iterating also leaves the run failed, never running', async () => {
    const it = profileModelIter(base({name: 'b'}))
    for (;;) {
      const r = await it.next()
      if (r.done === true || r.value.type === 'batch') {
        break
      }
    }
    await it.return(undefined as never)
    assert.equal(await runStatus(dbPath, 'b'), 'failed')
  })

  it('--resume with another model of the same depth, or another --raw, is refused; the same resumes', async () => {
    await rejectsWith(() => drain(profileModelIter(base({modelDir: tuned, resume: 'a', raw: {kind: 'first-token'}}))), 'store', /run "a" was profiled on .*model, whose weights or config differ from this model's/)
    await rejectsWith(() => drain(profileModelIter(base({resume: 'a', raw: {kind: 'sample', k: 4}}))), 'store', /run "a" was profiled with --raw first-token; resume it with the same \(not sample:4\)/)
    assert.equal(await runStatus(dbPath, 'a'), 'failed')
    const done = await drain(profileModelIter(base({resume: 'a', raw: {kind: 'first-token'}})))
    assert.equal(done.samples, 20)
    assert.equal(await runStatus(dbPath, 'a'), 'complete')
  })
})
