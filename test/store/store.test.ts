import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {StoreError} from '../../src/errors.js'
import {openDb} from '../../src/store/db.js'
import {exportParquet} from '../../src/store/export-parquet.js'
import {openStore} from '../../src/store/open-store.js'
import {createRun, findRun, markRunFailed, requireComplete} from '../../src/store/runs.js'
import {SCHEMA_VERSION} from '../../src/store/schema.js'
import {ROOT, python} from '../helpers/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-store-'))

function isStoreError(pattern: RegExp, code?: string): (error: unknown) => boolean {
  return (error) => error instanceof StoreError && pattern.test(error.message) && !error.message.includes('\n') && (code === undefined || error.code === code)
}

describe('store', () => {
  it('creates a versioned schema and refuses older, newer and foreign files', async () => {
    const path = join(dir, 'v.duckdb')
    const db = await openStore({path})
    assert.deepEqual(await db.all(`SELECT value FROM meta WHERE key = 'schema_version'`), [{value: String(SCHEMA_VERSION)}])
    const tables = (await db.all(`SELECT table_name FROM information_schema.tables ORDER BY table_name`)).map((r) => r.table_name)
    assert.deepEqual(tables, ['activations', 'block_stats', 'evals', 'layer_stats', 'meta', 'neuron_stats', 'runs'])
    await db.run(`UPDATE meta SET value = '0' WHERE key = 'schema_version'`)
    db.close()
    await assert.rejects(openStore({path}), isStoreError(/v\.duckdb: written with an older dlec store schema \(version 0; this dlec reads version 2\)/, 'DLEC_STORE_VERSION'))
    const raw = await openDb({path})
    await raw.run(`UPDATE meta SET value = '7' WHERE key = 'schema_version'`)
    raw.close()
    await assert.rejects(openStore({path}), isStoreError(/written with a newer dlec store schema \(version 7.*upgrade dlec/))
    const foreign = join(dir, 'foreign.duckdb')
    const other = await openDb({path: foreign})
    await other.run('CREATE TABLE t (x INTEGER)')
    other.close()
    await assert.rejects(openStore({path: foreign}), isStoreError(/foreign\.duckdb: not a dlec database/))
    await assert.rejects(openStore({path: join(dir, 'missing.duckdb'), readOnly: true}), isStoreError(/missing\.duckdb: no such database file/))
    assert.equal(existsSync(join(dir, 'missing.duckdb')), false)
  })

  it('names the file and the PID when another process holds the lock', async () => {
    const path = join(dir, 'lock.duckdb')
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/store/hold-lock.ts'), path], {cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit']})
    try {
      const line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve(d.toString()))
        child.on('exit', (code) => reject(new Error(`lock holder exited ${code}`)))
      })
      assert.match(line, /^locked \d+/)
      await assert.rejects(openStore({path}), isStoreError(new RegExp(`lock\\.duckdb: the database is in use by another process \\(.*PID ${child.pid}\\)`), 'DLEC_STORE_LOCKED'))
      await assert.rejects(openStore({path, readOnly: true}), isStoreError(new RegExp(`PID ${child.pid}`)))
    } finally {
      child.stdin.end()
      await new Promise((resolve) => child.on('exit', resolve))
    }
    const db = await openStore({path})
    db.close()
  })

  it('appends typed arrays, plain numbers, strings and repeated values column by column', async () => {
    const db = await openDb({path: ':memory:'})
    try {
      await db.run('CREATE TABLE t (r INTEGER, i INTEGER, f FLOAT, d DOUBLE, b BIGINT, s VARCHAR)')
      const n = 5000
      const ints = Int32Array.from({length: n}, (_, k) => k - 7)
      const floats = Float32Array.from({length: n}, (_, k) => k / 3)
      const doubles = Array.from({length: n}, (_, k) => k * 1.5)
      const bigs = new Float64Array(n).fill(2 ** 40)
      const strings = Array.from({length: n}, (_, k) => `s${k}`)
      await db.appendColumns('t', [{repeat: 42}, ints, floats, doubles, bigs, strings])
      const rows = await db.all('SELECT count(*) AS n, min(r) AS rmin, max(r) AS rmax, sum(i) AS si, sum(f::DOUBLE) AS sf, sum(d) AS sd, max(b) AS b, max(s) AS smax FROM t')
      const expect = {
        n,
        rmin: 42,
        rmax: 42,
        si: ints.reduce((a, b) => a + b, 0),
        sf: Array.from(floats).reduce((a, b) => a + b, 0),
        sd: doubles.reduce((a, b) => a + b, 0),
        b: 2 ** 40,
        smax: 's999',
      }
      const row = rows[0] ?? {}
      assert.equal(row.n, expect.n)
      assert.equal(row.rmin, 42)
      assert.equal(row.rmax, 42)
      assert.equal(row.si, expect.si)
      assert.ok(Math.abs(Number(row.sf) - expect.sf) < 1e-6 * expect.sf)
      assert.equal(row.sd, expect.sd)
      assert.equal(row.b, expect.b)
      assert.equal(row.smax, expect.smax)
      const spot = await db.all('SELECT i, f, s FROM t WHERE i = 4093')
      assert.deepEqual(spot, [{i: 4093, f: Math.fround(4100 / 3), s: 's4100'}])
      await assert.rejects(db.appendColumns('t', [{repeat: 1}, ints, floats]), isStoreError(/t: 3 columns given, the table has 6/))
      await assert.rejects(db.appendColumns('t', [{repeat: 1}, ints, floats.subarray(1), doubles, bigs, strings]), isStoreError(/t: columns of different lengths/))
    } finally {
      db.close()
    }
  })

  it('keeps runs by name, refuses duplicates and incomplete runs', async () => {
    const db = await openStore({path: join(dir, 'runs.duckdb')})
    try {
      const base = {model: '/m', modelHash: null, layers: [0, 1], hiddenSize: 4, dataSource: 'd.txt', dataHash: 'h', samples: 3, options: {raw: 'none'}}
      const a = await createRun(db, base)
      assert.equal(a.name, 'run-1')
      assert.equal(a.status, 'running')
      const b = await createRun(db, {...base, name: 'calib'})
      assert.equal(b.runId, 2)
      await assert.rejects(createRun(db, {...base, name: 'calib'}), isStoreError(/a run named "calib" already exists/))
      await markRunFailed(db, b.runId, 'interrupted')
      const failed = await findRun(db, 'calib')
      assert.equal(failed.status, 'failed')
      assert.throws(() => requireComplete(db, failed), isStoreError(/run "calib" is failed \(interrupted\), 0\/3 samples stored; finish it with `dlec profile --resume calib`/))
      assert.equal((await findRun(db, '1')).name, 'run-1')
      await assert.rejects(findRun(db, 'nope'), isStoreError(/no run "nope" \(runs: run-1, calib\)/))
      await assert.rejects(findRun(db), isStoreError(/no complete profile run/))
    } finally {
      db.close()
    }
  })

  it('exports Parquet that pyarrow reads back, atomically', async () => {
    const path = join(dir, 'out.parquet')
    await exportParquet({
      path,
      columns: [
        {name: 'layer', type: 'INTEGER', values: [0, 1, 2]},
        {name: 'score', type: 'DOUBLE', values: [0.5, null, 0.25]},
        {name: 'flag', type: 'BOOLEAN', values: [true, false, null]},
      ],
    })
    assert.equal(existsSync(`${path}.tmp`), false)
    const out = execFileSync(python(), ['-c', 'import pyarrow.parquet as pq, json, sys; print(json.dumps(pq.read_table(sys.argv[1]).to_pydict()))', path]).toString()
    assert.deepEqual(JSON.parse(out), {layer: [0, 1, 2], score: [0.5, null, 0.25], flag: [true, false, null]})
    await assert.rejects(exportParquet({path: join(dir, 'no/such/dir/x.parquet'), columns: [{name: 'a', type: 'INTEGER', values: [1]}]}), isStoreError(/x\.parquet: cannot write Parquet/))
  })
})

describe('evals', () => {
  it('stores and lists layer-sequence evaluations', async () => {
    const {insertEvals, listEvals} = await import('../../src/store/evals.js')
    const db = await openStore({path: join(dir, 'evals.duckdb')})
    try {
      const ids = await insertEvals(db, [
        {strategy: 'curve', layers: [0, 1, 1, 2], addedLayers: [1], params: 1234, loss: 2.5, kl: 0.01, top1: 0.97, tokens: 99, klCi: [0.005, 0.02], lossDeltaCi: [-0.1, 0.3], top1Ci: [0.9, 0.99], extra: {step: 1}},
        {runId: 3, strategy: 'dlec-original', layers: [0, 1, 2, 2], addedLayers: [2]},
      ])
      assert.deepEqual(ids, [1, 2])
      const all = await listEvals(db)
      assert.equal(all.length, 2)
      assert.deepEqual(
        {...all[0], created: undefined},
        {evalId: 1, runId: null, strategy: 'curve', layers: [0, 1, 1, 2], addedLayers: [1], params: 1234, loss: 2.5, kl: 0.01, top1: 0.97, tokens: 99, klCi: [0.005, 0.02], lossDeltaCi: [-0.1, 0.3], top1Ci: [0.9, 0.99], extra: {step: 1}, created: undefined},
      )
      assert.equal(all[1]?.klCi, null)
      assert.match(all[0]?.created ?? '', /^\d{4}-\d\d-\d\dT/)
      assert.deepEqual((await listEvals(db, {strategy: 'dlec-original'})).map((e) => e.evalId), [2])
      assert.deepEqual((await listEvals(db, {runId: 3})).map((e) => e.layers), [[0, 1, 2, 2]])
      assert.deepEqual(await listEvals(db, {strategy: 'none'}), [])
    } finally {
      db.close()
    }
  })

  it('reads a version 1 file as it is when read-only and upgrades it in place when opened for writing', async () => {
    const {insertEvals, listEvals} = await import('../../src/store/evals.js')
    const path = join(dir, 'v1.duckdb')
    const raw = await openDb({path})
    // the version 1 layout of the two tables this migration touches
    await raw.run(`CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL); INSERT INTO meta VALUES ('schema_version', '1');
      CREATE TABLE evals (eval_id INTEGER PRIMARY KEY, run_id INTEGER, strategy VARCHAR NOT NULL, layers VARCHAR NOT NULL, added_layers VARCHAR NOT NULL,
        params BIGINT, loss DOUBLE, kl DOUBLE, top1 DOUBLE, extra VARCHAR, created TIMESTAMP NOT NULL DEFAULT current_timestamp);
      INSERT INTO evals (eval_id, strategy, layers, added_layers, kl) VALUES (1, 'greedy', '[0,1,1]', '[1]', 0.25);`)
    raw.close()
    const ro = await openStore({path, readOnly: true})
    try {
      const [old] = await listEvals(ro)
      assert.equal(old?.kl, 0.25)
      assert.equal(old?.klCi, null)
      assert.equal(old?.tokens, null)
      assert.deepEqual(await ro.all(`SELECT value FROM meta WHERE key = 'schema_version'`), [{value: '1'}])
    } finally {
      ro.close()
    }
    const rw = await openStore({path})
    try {
      assert.deepEqual(await rw.all(`SELECT value FROM meta WHERE key = 'schema_version'`), [{value: String(SCHEMA_VERSION)}])
      await insertEvals(rw, [{strategy: 'greedy', layers: [0, 0, 1], addedLayers: [0], kl: 0.5, klCi: [0.4, 0.6], tokens: 10}])
      const rows = await listEvals(rw)
      assert.deepEqual(
        rows.map((r) => [r.evalId, r.kl, r.klCi, r.tokens]),
        [
          [1, 0.25, null, null],
          [2, 0.5, [0.4, 0.6], 10],
        ],
      )
    } finally {
      rw.close()
    }
  })
})
