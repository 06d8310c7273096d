import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, it} from 'node:test'
import {MergekitError} from '../../src/errors.js'
import type {MergeEvent} from '../../src/merge/merge-event.js'
import {findMergekit, runMergekit} from '../../src/merge/engines/run-mergekit.js'
import {STORIES} from '../helpers/cli.js'

const tmp = mkdtempSync(join(tmpdir(), 'dlec-runmk-'))
after(() => rmSync(tmp, {recursive: true, force: true}))

async function collect(gen: AsyncGenerator<MergeEvent, unknown>): Promise<MergeEvent[]> {
  const events: MergeEvent[] = []
  for await (const e of gen) {
    events.push(e)
  }
  return events
}

const mergekit = (): string => {
  const found = findMergekit({pathEnv: process.env.PATH})
  assert.ok(found, 'mergekit-yaml on PATH (source scripts/setup-python.sh)')
  return found
}

describe('runMergekit (the real mergekit-yaml)', () => {
  it('runs, streams its progress bars, and moves the output into place', async () => {
    const config = join(tmp, 'ok.yml')
    writeFileSync(config, `slices:\n- sources:\n  - model: ${STORIES}\n    layer_range: [0, 3]\nmerge_method: passthrough\n`)
    const out = join(tmp, 'ok-out')
    const events = await collect(runMergekit({mergekit: mergekit(), config, out, outShardSize: 100_000}))
    assert.equal(events[0]?.type, 'start')
    const stages = events.filter((e) => e.type === 'stage')
    assert.ok(stages.some((e) => e.stage === 'Executing graph' && e.done === e.total && e.total > 0), JSON.stringify(stages.slice(-3)))
    assert.ok(readdirSync(out).includes('model.safetensors.index.json'))
    // mergekit titles its card with the folder's base name: the staging folder keeps it.
    assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /\n# ok-out\n/)
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('dlec-partial')), [])
  })

  it("maps mergekit's failure to a one-line MergekitError with its output in details; no output folder", async () => {
    const config = join(tmp, 'bad.yml')
    writeFileSync(config, `slices:\n- sources:\n  - model: ${STORIES}\n    layer_range: [0, 9]\nmerge_method: passthrough\n`)
    const out = join(tmp, 'bad-out')
    await assert.rejects(collect(runMergekit({mergekit: mergekit(), config, out})), (e: unknown) => {
      assert.ok(e instanceof MergekitError)
      assert.match(e.message, /^mergekit-yaml failed \(exit 1\): .*(model\.layers\.5|not present|Error)/)
      assert.ok(!e.message.includes('\n'))
      assert.match(e.details ?? '', /Traceback/)
      return true
    })
    assert.equal(existsSync(out), false)
    assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('dlec-partial')), [])
  })

  it('finds nothing on an empty PATH and names a bad explicit path', () => {
    assert.equal(findMergekit({pathEnv: ''}), undefined)
    assert.throws(() => findMergekit({explicit: join(tmp, 'nope')}), /nope: mergekit-yaml not found at that path/)
  })
})
