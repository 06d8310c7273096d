import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, openSync, closeSync, readdirSync, rmSync, writeSync, copyFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {openDb} from '../../src/store/db.js'
import {openStore} from '../../src/store/open-store.js'
import {dlec, ROOT, STORIES} from '../helpers/cli.js'
import {mountTmpfs, rejectsWith} from '../helpers/hostile.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-hostile-store-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const DATA = join(ROOT, 'fixtures/calibration/stories.txt')
const cache = join(tmp, 'cache')

/** Runs `fn` while a second process holds the DuckDB lock on `path`. */
async function whileLocked(path: string, fn: () => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/store/hold-lock.ts'), path], {cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit']})
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => resolve())
      child.on('exit', (code) => reject(new Error(`lock holder exited ${code}`)))
    })
    await fn()
  } finally {
    child.stdin.end()
    await new Promise((resolve) => child.on('exit', resolve))
  }
}

describe('hostile store files', () => {
  it('a SQLite file as --db is refused by name, and DuckDB is not allowed to fetch extensions', async () => {
    const sqlite = join(tmp, 'old.sqlite')
    execFileSync('python3', ['-c', `import sqlite3; c = sqlite3.connect(${JSON.stringify(sqlite)}); c.execute('create table t(x)'); c.commit()`])
    const e = await rejectsWith(() => openStore({path: sqlite}), 'store', /old\.sqlite: is a SQLite file, not a DuckDB database; give --db a \.duckdb file/)
    assert.equal(e.code, 'DLEC_STORE_NOT_DUCKDB')
    const db = await openDb({path: ':memory:'})
    try {
      const rows = await db.all("SELECT current_setting('autoinstall_known_extensions') AS install, current_setting('autoload_known_extensions') AS load")
      assert.deepEqual(rows, [{install: false, load: false}])
    } finally {
      db.close()
    }
  })

  it('a corrupt DuckDB block is a StoreError naming the file (exit 8 through the CLI, one line)', async () => {
    const good = join(tmp, 'good.duckdb')
    const p = await dlec(['profile', STORIES, '--data', DATA, '--db', good, '--cache-dir', cache, '--samples', '4'])
    assert.equal(p.code, 0, p.stderr)
    const bad = join(tmp, 'corrupt.duckdb')
    copyFileSync(good, bad)
    const fd = openSync(bad, 'r+')
    writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, 12288)
    closeSync(fd)
    await rejectsWith(() => openStore({path: bad}), 'store', /corrupt\.duckdb: not a DuckDB database, or a corrupt one \(IO Error: Corrupt database file/)
    const r = await dlec(['score', '--db', bad])
    assert.equal(r.code, 8)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })

  it('a full disk under the store: profile exits 8 with "no space left", not DuckDB transaction noise', async () => {
    const disk = join(tmp, 'full')
    const unmount = mountTmpfs(disk, {sizeKb: 1200})
    try {
      const r = await dlec(['profile', STORIES, '--data', DATA, '--db', join(disk, 'p.duckdb'), '--cache-dir', cache, '--raw', 'sample:8'])
      assert.equal(r.code, 8, r.stderr)
      assert.match(r.stderr.trim().split('\n').at(-1) ?? '', /^Error: .*full\/p\.duckdb: no space left on the device while writing the database$/)
    } finally {
      unmount()
    }
  })

  it('with the store locked, plan and expand fail BEFORE writing the YAML or OUT (exit 8)', async () => {
    const db = join(tmp, 'locked.duckdb')
    ;(await openStore({path: db})).close()
    await whileLocked(db, async () => {
      const yaml = join(tmp, 'plan.yaml')
      const plan = await dlec(['plan', STORIES, '--add-layers', '1', '--strategy', 'identity', '--out', yaml, '--db', db, '--cache-dir', cache])
      assert.equal(plan.code, 8, plan.stderr)
      assert.match(plan.stderr, /locked\.duckdb: the database is in use by another process/)
      assert.ok(!existsSync(yaml))
      const out = join(tmp, 'expanded')
      const expand = await dlec(['expand', STORIES, '--add-layers', '1', '--strategy', 'identity', '--out', out, '--db', db, '--cache-dir', cache, '--engine', 'native'])
      assert.equal(expand.code, 8, expand.stderr)
      assert.ok(!existsSync(out))
      assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('dlec-partial') || f.includes('.tmp-')), [])
    })
  })
})
