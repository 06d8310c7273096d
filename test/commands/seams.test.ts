import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {listEvals} from '../../src/store/evals.js'
import {openStore} from '../../src/store/open-store.js'
import {GENERATED, ROOT, STORIES, dlec} from '../helpers/cli.js'

/**
 * The seams issue 9 put in: one model value (config.json and the safetensors headers read once
 * per command), one runtime-options object (--device), one command-to-generator seam (signals).
 */
const DATA = join(ROOT, 'fixtures/calibration/stories.txt')
let work: string
let env: NodeJS.ProcessEnv

before(() => {
  work = mkdtempSync(join(tmpdir(), 'dlec-seams-'))
  env = {DLEC_CACHE_DIR: join(work, 'cache'), HF_HUB_OFFLINE: '1', HF_HUB_CACHE: join(work, 'hub')}
})

after(() => {
  rmSync(work, {recursive: true, force: true})
})

/** Files anywhere under `dir` whose name says they are temporary or partial. */
function leftovers(dir: string): string[] {
  return readdirSync(dir, {recursive: true, encoding: 'utf8'}).filter((f) => /tmp|partial|incomplete/i.test(f))
}

/** stderr without the debug lines (DEBUG=dlec:events). */
/** What the user reads on stderr besides the traces and the progress notes of the search (e.g. `greedy +1: racing measured ...`). */
const userLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.trim() !== '' && !/^\s*dlec:/.test(l) && !/dlec:events/.test(l) && !/^\w+ \+\d+: racing measured /.test(l))

describe('one model value', () => {
  it('dlec plan reads config.json once and each safetensors header once', async () => {
    const r = await dlec(['plan', STORIES, '--add-layers', '1', '--data', DATA, '--max-tokens', '64', '--out', join(work, 'p.yaml'), '--db', join(work, 'reads.duckdb')], {
      env: {...env, DEBUG: 'dlec:io'},
    })
    assert.equal(r.code, 0, r.stderr)
    const configReads = r.stderr.split('\n').filter((l) => /dlec:io config .*config\.json/.test(l))
    const headerReads = r.stderr.split('\n').filter((l) => /dlec:io safetensors header /.test(l))
    assert.equal(configReads.length, 1, configReads.join('\n'))
    assert.equal(headerReads.length, 1, headerReads.join('\n'))
  })

  it('plan --from-db finds a curve recorded under another spelling of the same folder', async () => {
    const db = join(work, 'spell.duckdb')
    const curve = await dlec(['curve', STORIES, '--data', DATA, '--max-add', '1', '--strategy', 'greedy', '--max-tokens', '64', '--db', db], {env})
    assert.equal(curve.code, 0, curve.stderr)
    const other = `${STORIES.replace(/\/$/, '')}/../stories260K/`
    const plan = await dlec(['plan', other, '--add-layers', '1', '--from-db', '--out', join(work, 'spell.yaml'), '--db', db, '--json'], {env})
    assert.equal(plan.code, 0, plan.stderr)
    assert.equal((JSON.parse(plan.stdout) as {source: string}).source, 'store')
  })
})

describe('--device', () => {
  it('cuda on a machine without CUDA is a one-line error naming what is missing', async () => {
    const r = await dlec(['eval', STORIES, '--data', DATA, '--max-tokens', '16', '--device', 'cuda'], {env})
    assert.equal(r.code, 9, r.stderr)
    const lines = userLines(r.stderr)
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0] ?? '', /^Error: --device cuda: CUDA is not usable here: .*libonnxruntime_providers_cuda/)
  })

  it('auto picks the CPU here and says so', async () => {
    const r = await dlec(['eval', STORIES, '--data', DATA, '--max-tokens', '16', '--device', 'auto'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /device: cpu \(--device auto: CUDA unavailable: /)
    assert.match(r.stdout, /perplexity/)
  })
})

/**
 * Runs a command, sends `signal` once the pipeline has yielded an event matching `when` (seen
 * through DEBUG=dlec:events), and returns its exit code and stderr.
 */
function interrupt(args: string[], signal: NodeJS.Signals, when: RegExp): Promise<{code: number | null; stderr: string}> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/run.js'), ...args], {cwd: ROOT, env: {...process.env, ...env, DEBUG: 'dlec:events'}})
  let stderr = ''
  let sent = false
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    if (!sent && when.test(stderr)) {
      sent = true
      child.kill(signal)
    }
  })
  return new Promise((resolve) => child.on('exit', (code) => resolve({code, stderr})))
}

describe('signals end long commands cleanly', () => {
  let data: string
  before(() => {
    // Enough text that every command is still measuring when the first event arrives.
    data = join(work, 'long.txt')
    const text = readFileSync(DATA, 'utf8').trim()
    writeFileSync(data, Array.from({length: 4}, () => text).join('\n\n'))
  })

  it('SIGTERM during a curve: exit 143, one line, measured candidates kept in the store', async () => {
    const db = join(work, 'cut-curve.duckdb')
    const r = await interrupt(['curve', STORIES, '--data', data, '--max-add', '3', '--candidates', 'all', '--strategy', 'greedy', '--db', db], 'SIGTERM', /dlec:events evaluated/)
    assert.equal(r.code, 143, r.stderr)
    const lines = userLines(r.stderr)
    assert.equal(lines.length, 1, r.stderr)
    const kept = /kept (\d+) measured candidate\(s\)/.exec(lines[0] ?? '')
    assert.ok(kept, lines[0])
    assert.ok(Number(kept[1]) >= 1)
    const store = await openStore({path: db, readOnly: true})
    try {
      const rows = await listEvals(store)
      assert.equal(rows.filter((e) => e.extra?.kind === 'candidate').length, Number(kept[1]))
      assert.equal(rows.filter((e) => e.extra?.kind === 'point').length, 0, 'no curve points from an unfinished curve')
    } finally {
      store.close()
    }
    assert.deepEqual(leftovers(work), [])
  })

  it('SIGINT during a plan: exit 130, one line, no YAML written', async () => {
    const out = join(work, 'cut-plan.yaml')
    const r = await interrupt(['plan', STORIES, '--add-layers', '3', '--candidates', 'all', '--data', data, '--out', out, '--db', join(work, 'cut-plan.duckdb')], 'SIGINT', /dlec:events evaluated/)
    assert.equal(r.code, 130, r.stderr)
    assert.equal(userLines(r.stderr).length, 1, r.stderr)
    assert.match(userLines(r.stderr)[0] ?? '', /^Error: (dlec plan stopped by SIGINT|the curve stopped after \d+ measured candidate)/)
    assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('cut-plan.yaml')), [])
    assert.deepEqual(leftovers(work), [])
  })

  it('SIGHUP during an expand: exit 129, no OUT', async () => {
    const out = join(work, 'cut-expand')
    const r = await interrupt(['expand', STORIES, '--add-layers', '2', '--data', data, '--out', out, '--engine', 'native', '--db', join(work, 'cut-expand.duckdb')], 'SIGHUP', /dlec:events evaluated/)
    assert.equal(r.code, 129, r.stderr)
    assert.equal(userLines(r.stderr).filter((l) => !l.startsWith('== ')).length, 1, r.stderr)
    assert.deepEqual(readdirSync(work).filter((f) => f.includes('cut-expand') && !f.endsWith('.duckdb') && !f.endsWith('.wal')), [])
    assert.deepEqual(leftovers(work), [])
  })

  it('SIGINT while an eval builds its weight cache: exit 130 and no temp file; the next run builds it whole', async () => {
    const cache = join(work, 'cut-cache')
    const args = ['eval', join(GENERATED, 'llama-bf16'), '--data', DATA, '--max-tokens', '32', '--cache-dir', cache]
    const r = await interrupt(args, 'SIGINT', /dlec:events convert/)
    assert.equal(r.code, 130, r.stderr)
    assert.equal(userLines(r.stderr).length, 1, r.stderr)
    assert.deepEqual(leftovers(cache), [])
    const again = await dlec(args, {env})
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /perplexity/)
  })

  it('SIGTERM during a profile: exit 143, the run is failed and resumable', async () => {
    const db = join(work, 'cut-profile.duckdb')
    const r = await interrupt(['profile', STORIES, '--data', data, '--db', db, '--batch-size', '1', '--name', 'cut'], 'SIGTERM', /dlec:events batch/)
    assert.equal(r.code, 143, r.stderr)
    assert.match(userLines(r.stderr).at(-1) ?? '', /^Error: profile run "cut" interrupted after \d+\/\d+ samples; continue it with --resume cut/)
    const store = await openStore({path: db, readOnly: true})
    try {
      const rows = await store.all(`SELECT status FROM runs WHERE name = 'cut'`)
      assert.equal(rows[0]?.status, 'failed')
    } finally {
      store.close()
    }
    const resumed = await dlec(['profile', STORIES, '--data', data, '--db', db, '--batch-size', '1', '--resume', 'cut'], {env})
    assert.equal(resumed.code, 0, resumed.stderr)
  })
})
