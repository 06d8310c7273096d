import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {ROOT, STORIES, dlec} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-eval-base-'))
after(() => rmSync(tmp, {recursive: true, force: true}))
const DATA = join(ROOT, 'fixtures', 'calibration', 'stories.txt')
const env = {DLEC_CACHE_DIR: join(tmp, 'cache')}

async function json<T>(args: string[]): Promise<T> {
  const r = await dlec([...args, '--json'], {env})
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as T
}

interface EvalJson {
  meanKl: number
  top1Agreement: number
  lossDelta: number
  loss: number
  original: {loss: number}
  tokens: number
  baseDir?: string
}

describe('dlec eval MERGED --base ORIGINAL', () => {
  it("of a merged plan equals the plan's zero-copy KL, top-1 and Δloss (1e-5); without --base the folder is compared with itself", async () => {
    const yaml = join(tmp, 'plan.yaml')
    const out = join(tmp, 'merged')
    const plan = await json<{kl: number; top1: number; lossDelta: number; layers: number[]}>(['plan', STORIES, '--add-layers', '2', '--data', DATA, '--max-tokens', '600', '--out', yaml, '--db', join(tmp, 'p.duckdb')])
    await json(['merge', yaml, out, '--engine', 'native'])
    const merged = await json<EvalJson>(['eval', out, '--base', STORIES, '--data', DATA, '--max-tokens', '600'])
    assert.ok(plan.kl > 1e-3, 'the plan changes the model')
    assert.ok(Math.abs(merged.meanKl - plan.kl) <= 1e-5, `eval --base KL ${merged.meanKl} vs plan ${plan.kl}`)
    assert.ok(Math.abs(merged.top1Agreement - plan.top1) <= 1e-5)
    assert.ok(Math.abs(merged.lossDelta - plan.lossDelta) <= 1e-5)
    assert.equal(merged.baseDir, STORIES.replace(/\/$/, ''))
    // The zero-copy plan evaluated by eval --plan on the original gives the same numbers.
    const zeroCopy = await json<EvalJson>(['eval', STORIES, '--plan', yaml, '--data', DATA, '--max-tokens', '600'])
    assert.ok(Math.abs(merged.meanKl - zeroCopy.meanKl) <= 1e-5)
    assert.ok(Math.abs(merged.original.loss - zeroCopy.original.loss) <= 1e-5)
    assert.equal(merged.tokens, zeroCopy.tokens)
    const self = await json<EvalJson>(['eval', out, '--data', DATA, '--max-tokens', '600'])
    assert.equal(self.meanKl, 0)
    assert.ok(Math.abs(self.loss - merged.loss) <= 1e-6)
  })
})
