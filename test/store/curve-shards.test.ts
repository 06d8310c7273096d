import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {before, describe, it} from 'node:test'
import {withMemoryDb} from '../../src/store/db.js'
import {ROOT, STORIES, dlec} from '../helpers/cli.js'

const TMP = mkdtempSync(join(tmpdir(), 'dlec-shards-'))
const ENV = {DLEC_CACHE_DIR: join(TMP, 'cache')}

/** The SQL block the README marks with `shards-sql`, as a list of statements. */
function readmeShardSql(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const at = readme.indexOf('<!-- shards-sql')
  const block = /```sql\n([\s\S]*?)```/.exec(readme.slice(at))
  assert.ok(at >= 0 && block, 'README has the shards-sql block')
  return (block[1] as string).split(/;\s*\n/).map((s) => s.trim()).filter((s) => s !== '')
}

interface Candidate {
  layers: string
  kl: number
  loss: number
  top1: number
  tokens: number
}

async function sweep(data: string, db: string): Promise<Candidate[]> {
  const r = await dlec(['curve', STORIES, '--data', data, '--max-add', '1', '--strategy', 'greedy', '--candidates', 'all', '--no-racing', '--db', db, '--json'], {env: ENV})
  assert.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as {tokens: number; evaluations: {layers: number[]; measurement: {kl: number; loss: number; top1: number}}[]}
  return report.evaluations.map((e) => ({layers: JSON.stringify(e.layers), kl: e.measurement.kl, loss: e.measurement.loss, top1: e.measurement.top1, tokens: report.tokens}))
}

describe('curve shards queried together (README "Scaling")', () => {
  let whole: Candidate[]
  const shards = [join(TMP, 'curve-0.duckdb'), join(TMP, 'curve-1.duckdb')]
  before(async () => {
    const paragraphs = readFileSync(join(ROOT, 'fixtures/calibration/stories.txt'), 'utf8').split(/\n\s*\n/).filter((p) => p.trim() !== '')
    const half = Math.floor(paragraphs.length / 2)
    writeFileSync(join(TMP, 'shard-0.txt'), paragraphs.slice(0, half).join('\n\n'))
    writeFileSync(join(TMP, 'shard-1.txt'), paragraphs.slice(half).join('\n\n'))
    writeFileSync(join(TMP, 'all.txt'), paragraphs.join('\n\n'))
    await sweep(join(TMP, 'shard-0.txt'), shards[0] as string)
    await sweep(join(TMP, 'shard-1.txt'), shards[1] as string)
    whole = await sweep(join(TMP, 'all.txt'), join(TMP, 'whole.duckdb'))
  })

  it("the README's ATTACH / UNION ALL SQL over two shard files gives the unsharded run's per-candidate means", async () => {
    const statements = readmeShardSql().map((s) => s.replace("'curve-0.duckdb'", `'${shards[0]}'`).replace("'curve-1.duckdb'", `'${shards[1]}'`))
    const rows = await withMemoryDb(async (db) => {
      for (const s of statements.slice(0, -1)) {
        await db.run(s)
      }
      return db.all(statements.at(-1) as string)
    })
    assert.equal(rows.length, whole.length)
    assert.ok(rows.every((r) => Number(r.shards) === 2))
    assert.equal(Number(rows[0]?.tokens), whole[0]?.tokens, 'token counts add up')
    for (const w of whole) {
      const r = rows.find((x) => x.layers === w.layers)
      assert.ok(r, `candidate ${w.layers} in the union`)
      for (const key of ['kl', 'loss', 'top1'] as const) {
        assert.ok(Math.abs(Number(r[key]) - w[key]) < 1e-6 * Math.max(1, Math.abs(w[key])), `${key} of ${w.layers}: ${r[key]} vs ${w[key]}`)
      }
    }
    const best = [...whole].sort((a, b) => a.kl - b.kl)[0]
    assert.equal(rows[0]?.layers, best?.layers, 'the first row is the best candidate on the whole set')
  })
})
