import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {openStore} from '../../src/store/open-store.js'
import {ROOT, STORIES, dlec, python} from '../helpers/cli.js'

const work = mkdtempSync(join(tmpdir(), 'dlec-profile-cli-'))
const env = {DLEC_CACHE_DIR: join(work, 'cache')}
const stories = join(ROOT, 'fixtures/calibration/stories.txt')

/** Expects a failure: the exit code and a one-line message matching `pattern`, no stack trace. */
async function fails(args: string[], code: number, pattern: RegExp): Promise<void> {
  const r = await dlec(args, {env})
  assert.equal(r.code, code, `exit code for ${args.join(' ')}: ${r.stderr}`)
  assert.match(r.stderr.replace(/\s*\n\s*(›\s*)?/g, ' '), pattern)
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
}

async function tableRows(db: string, sql: string): Promise<Array<Record<string, unknown>>> {
  const store = await openStore({path: db, readOnly: true})
  try {
    return await store.all(sql)
  } finally {
    store.close()
  }
}

describe('dlec profile / dlec score', () => {
  it('profiles, then scores as table, JSON, CSV, Parquet and plots', async () => {
    const db = join(work, 'a.duckdb')
    const p = await dlec(['profile', STORIES, '--data', stories, '--db', db, '--raw', 'sample:4', '--max-tokens', '64', '--name', 'calib', '--threads', '1'], {env})
    assert.equal(p.code, 0, p.stderr)
    assert.match(p.stdout, /run calib \(id 1\) complete: 20 samples, \d+ tokens \(positions >= 1\), 5 layers/)
    assert.match(p.stdout, /stored 100 layer, 300 block, 384 neuron, 35840 activation rows/, '4 positions x 20 samples x 7 points x 64')
    const json = await dlec(['score', '--db', db, '--json'], {env})
    assert.equal(json.code, 0, json.stderr)
    const report = JSON.parse(json.stdout) as {run: {name: string}; layers: Array<{layer: number; blockInfluence: number; dlecCorrected: boolean | null}>; dlecCorrected: {rows: unknown[]} | null}
    assert.equal(report.run.name, 'calib')
    assert.deepEqual(report.layers.map((l) => l.layer), [0, 1, 2, 3, 4])
    assert.equal(report.dlecCorrected?.rows.length, 5, 'sample:4 gives the corrected rule positions >= 1')
    const table = await dlec(['score', '--db', db, '--run', 'calib', '--plot', join(work, 's.svg')], {env})
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, /^run calib \(id 1\)/)
    assert.equal(table.stderr, `wrote plot ${join(work, 's.svg')}\n`)
    assert.match(table.stdout, /layer\s+source_layer\s+block_influence\s+angular_1/)
    assert.match(table.stdout, /original DLEC rule as its notebook runs it .*: beneficial/)
    assert.match(readFileSync(join(work, 's.svg'), 'utf8'), /^<svg [^>]*>[\s\S]*block influence[\s\S]*<\/svg>\n$/)
    const csv = await dlec(['score', '--db', db, '--format', 'csv', '--plot', join(work, 's.png')], {env})
    const lines = csv.stdout.trim().split('\n')
    assert.equal(lines.length, 6)
    assert.equal(csv.stderr, `wrote plot ${join(work, 's.png')}\n`, 'said on stderr: stdout is the CSV')
    assert.equal(Number(lines[1]?.split(',')[2]), report.layers[0]?.blockInfluence)
    assert.deepEqual([...readFileSync(join(work, 's.png')).subarray(1, 4)], [...Buffer.from('PNG')])
    const pq = await dlec(['score', '--db', db, '--format', 'parquet', '--output', join(work, 's.parquet')], {env})
    assert.equal(pq.code, 0, pq.stderr)
    assert.ok(existsSync(join(work, 's.parquet')))
    const exp = await dlec(['score', '--db', db, '--format', 'csv', '--export-dir', join(work, 'export')], {env})
    assert.equal(exp.code, 0, exp.stderr)
    const counts = execFileSync(
      python(),
      ['-c', 'import pyarrow.parquet as pq, json, sys, os; print(json.dumps({t: pq.read_table(os.path.join(sys.argv[1], t + ".parquet")).num_rows for t in ["runs", "layer_stats", "block_stats", "neuron_stats", "activations"]}))', join(work, 'export')],
    ).toString()
    assert.deepEqual(JSON.parse(counts), {runs: 1, layer_stats: 100, block_stats: 300, neuron_stats: 384, activations: 35840})
  })

  it('fails with one-line messages for bad input', async () => {
    await fails(['profile', STORIES, '--data', join(work, 'none.txt'), '--db', join(work, 'x.duckdb')], 10, /Error: .*none\.txt: cannot read the data file \(no such file\)/)
    await fails(['profile', STORIES, '--data', stories, '--raw', 'all', '--db', join(work, 'x.duckdb')], 2, /--raw all: expected none, first-token or sample:K/)
    await fails(['profile', STORIES, '--data', stories, '--quant', 'int3', '--db', join(work, 'x.duckdb')], 2, /Expected --quant=int3 to be one of: auto, fp32, int8, int4, w8a8/)
    await fails(['score', '--db', join(work, 'none.duckdb')], 8, /none\.duckdb: no such database file/)
    await fails(['score', '--db', join(work, 'a.duckdb'), '--run', 'zzz'], 8, /no run "zzz" \(runs: calib\)/)
    await fails(['profile', STORIES, '--data', stories, '--db', join(work, 'a.duckdb'), '--resume', 'calib'], 8, /run "calib" is already complete; nothing to resume/)
    await fails(['score', '--db', join(work, 'a.duckdb'), '--format', 'parquet'], 2, /--format parquet needs --output FILE/)
  })

  it('--quant int8 profiles the quantized graph: per-layer cosines close to fp32 but not identical; --resume keeps the quant', async () => {
    const db = join(work, 'q.duckdb')
    const args = ['profile', STORIES, '--data', stories, '--db', db, '--max-tokens', '64', '--threads', '1']
    for (const quant of ['fp32', 'int8']) {
      const r = await dlec([...args, '--quant', quant, '--name', quant], {env})
      assert.equal(r.code, 0, r.stderr)
    }
    const runs = await tableRows(db, `SELECT name, json_extract_string(options, '$.quant') AS quant FROM runs ORDER BY run_id`)
    assert.deepEqual(runs, [{name: 'fp32', quant: 'fp32'}, {name: 'int8', quant: 'int8'}])
    const rows = await tableRows(
      db,
      `SELECT layer, sum(a.cos_sum) / sum(a.tokens) AS fp32, sum(b.cos_sum) / sum(b.tokens) AS int8, max(abs(a.cos_sum - b.cos_sum)) AS diff
       FROM layer_stats a JOIN layer_stats b USING (sample, layer) WHERE a.run_id = 1 AND b.run_id = 2 GROUP BY layer ORDER BY layer`,
    )
    assert.equal(rows.length, 5)
    for (const row of rows) {
      assert.ok(Math.abs(Number(row.fp32) - Number(row.int8)) < 0.02, `layer ${String(row.layer)}: mean cos fp32 ${String(row.fp32)} vs int8 ${String(row.int8)}`)
    }
    assert.ok(rows.some((row) => Number(row.diff) > 0), 'int8 really ran quantized (not bit-identical to fp32)')
    const store = await openStore({path: db})
    try {
      await store.run(`UPDATE runs SET status = 'failed' WHERE name = 'int8'`)
    } finally {
      store.close()
    }
    await fails([...args, '--resume', 'int8'], 8, /run "int8" was profiled with --quant int8; resume it with --quant int8 \(not fp32\)/)
  })

  it('SIGINT leaves the run marked failed; --resume finishes it with the same statistics as an uninterrupted run', async () => {
    const data = join(work, 'many.txt')
    const paragraphs = readFileSync(stories, 'utf8').trim().split(/\n\n/)
    // Long enough (3000 samples, ~2 s on an idle machine) that SIGINT 300 ms in always lands mid-run.
    writeFileSync(data, Array.from({length: 3000}, (_, i) => `${paragraphs[i % paragraphs.length]} (${i})`).join('\n\n'))
    const db = join(work, 'int.duckdb')
    const args = ['profile', STORIES, '--data', data, '--db', db, '--batch-size', '1', '--max-tokens', '32', '--threads', '1']
    const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), ...args, '--name', 'cut'], {cwd: ROOT, env: {...process.env, ...env}})
    let stderr = ''
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString()
        if (/profiling run cut/.test(stderr)) {
          setTimeout(() => {
            child.kill('SIGINT')
            resolve()
          }, 300)
        }
      })
    })
    const code = await exited
    assert.equal(code, 130, stderr)
    assert.match(stderr, /Error: profile run "cut" interrupted after \d+\/3000 samples; continue it with --resume cut/)
    const [cut] = await tableRows(db, `SELECT status, next_sample, error FROM runs WHERE name = 'cut'`)
    assert.equal(cut?.status, 'failed')
    assert.ok(Number(cut?.next_sample) > 0 && Number(cut?.next_sample) < 3000, `stopped part way: ${String(cut?.next_sample)}`)
    const stored = await tableRows(db, `SELECT count(DISTINCT sample) AS n FROM layer_stats WHERE run_id = 1`)
    assert.equal(stored[0]?.n, cut?.next_sample, 'whole batches only')
    await fails(['score', '--db', db, '--run', 'cut'], 8, /run "cut" is failed \(profile run "cut" interrupted/)
    await fails([...args.map((a) => (a === '32' ? '16' : a)), '--resume', 'cut'], 8, /run "cut" was profiled with other data or layers .*resume it with the same --data, --samples, --max-tokens and layers/)
    const resumed = await dlec([...args, '--resume', 'cut'], {env})
    assert.equal(resumed.code, 0, resumed.stderr)
    assert.match(resumed.stderr, new RegExp(`resuming run cut \\(id 1\\): 3000 samples, ${String(cut?.next_sample)} already stored`))
    const full = await dlec([...args, '--name', 'full'], {env})
    assert.equal(full.code, 0, full.stderr)
    const diff = await tableRows(
      db,
      `SELECT
         (SELECT count(*) FROM layer_stats WHERE run_id = 1) AS n1, (SELECT count(*) FROM layer_stats WHERE run_id = 2) AS n2,
         (SELECT max(abs(a.cos_sum - b.cos_sum) + abs(a.norm_in_sum - b.norm_in_sum)) FROM layer_stats a JOIN layer_stats b USING (sample, layer) WHERE a.run_id = 1 AND b.run_id = 2) AS layer_diff,
         (SELECT max(abs(a.sum - b.sum) + abs(a.sum_sq - b.sum_sq) + abs(a.max_abs - b.max_abs) + abs(a.count - b.count)) FROM neuron_stats a JOIN neuron_stats b USING (point, neuron) WHERE a.run_id = 1 AND b.run_id = 2) AS neuron_diff,
         (SELECT count(*) FROM neuron_stats WHERE run_id = 1) AS neurons`,
    )
    assert.deepEqual(diff[0], {n1: 15000, n2: 15000, layer_diff: 0, neuron_diff: 0, neurons: 384})
  })
})
