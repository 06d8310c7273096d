import assert from 'node:assert/strict'
import {lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, sep} from 'node:path'
import {after, before, describe, it} from 'node:test'
import fc from 'fast-check'
import {DlecError} from '../../src/errors.js'
import {resolveModel} from '../../src/model/resolve-model.js'
import {STORIES} from '../helpers/cli.js'
import {FakeHub, type FakeHubRoute} from '../helpers/fake-hub.js'

/** Runs per property in CI (each is a download attempt from the local fake Hub); DLEC_FUZZ_RUNS for a longer run. */
const RUNS = Number(process.env.DLEC_FUZZ_RUNS ?? 60)

/** Strings a hostile Hub would put where a commit id or a file name goes. */
const hostile = fc.oneof(
  fc.constantFrom('../../../../tmp/owned', '..', '.', '/etc/passwd', 'a/../../b', 'model.safetensors/../../x', '..safetensors', '.hidden.json', 'con\u0000fig.json', 'x\\..\\y.json', 'C:evil.json', '', ' ', 'README.md', 'config.json'),
  fc.string({maxLength: 24}),
  fc.string({unit: fc.constantFrom('.', '/', '\\', 'a', '0', 'f', '\u0000', '%2e', '~'), maxLength: 16}),
  fc.string({unit: fc.constantFrom(...'0123456789abcdef'), minLength: 40, maxLength: 40}),
)
/** Any JSON value, or a hostile string. */
const anything = fc.oneof(hostile, fc.jsonValue({maxDepth: 2}))

function walk(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const p = join(dir, e.name)
    return e.isDirectory() ? [p, ...walk(p)] : [p]
  })
}

describe('Hub answers are validated before any path is built from them (fuzzed against a local fake Hub)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-hub-fuzz-'))
  let hub: FakeHub
  let counter = 0
  const originals = new Map(readdirSync(STORIES).map((f) => [f, readFileSync(join(STORIES, f))]))
  before(async () => {
    hub = await new FakeHub('hf_FuzzTokenNeverUsed000000').start()
    hub.seed('org/tiny', Object.fromEntries(originals), {oid: 'c0ffee0000000000000000000000000000000001'})
    hub.lenient = true
  })
  after(async () => {
    await hub.stop()
    rmSync(tmp, {recursive: true, force: true})
  })

  /** One download with crafted answers: a DlecError or success, nothing outside the cache, the source untouched. */
  const attempt = async (rewrite: (route: FakeHubRoute, body: unknown) => unknown): Promise<void> => {
    // The cache sits ten folders deep in the run's sandbox, so that a path that climbs out of it
    // with `..` still lands in the sandbox, where the check below sees it.
    const sandbox = join(tmp, `run-${counter++}`)
    const cacheDir = join(sandbox, ...'abcdefghij'.split(''), 'cache')
    mkdirSync(cacheDir, {recursive: true})
    hub.answer = rewrite
    try {
      const got = await resolveModel({model: 'org/tiny', cacheDir, hubUrl: hub.url, timeoutMs: 5000})
      assert.ok(got.dir.startsWith(realpathSync(cacheDir) + sep) || got.dir.startsWith(cacheDir + sep), got.dir)
    } catch (error) {
      assert.ok(error instanceof DlecError, `not a DlecError: ${(error as Error)?.stack ?? String(error)}`)
      assert.equal(error.message.includes('\n'), false)
    } finally {
      hub.answer = undefined
    }
    const allowed = new Set(['abcdefghij'.split('').map((_, i, a) => join(sandbox, ...a.slice(0, i + 1)))].flat())
    for (const p of walk(tmp)) {
      assert.ok(p === sandbox || allowed.has(p) || p === cacheDir || p.startsWith(cacheDir + sep), `written outside the cache: ${p}`)
    }
    const root = realpathSync(cacheDir)
    for (const p of walk(cacheDir)) {
      if (lstatSync(p).isSymbolicLink()) {
        const target = (() => {
          try {
            return realpathSync(p)
          } catch {
            return root // dangling inside the cache is no escape
          }
        })()
        assert.ok(target === root || target.startsWith(root + sep), `${p} leads out of the cache to ${target}`)
      }
    }
    for (const [f, data] of originals) {
      assert.ok(readFileSync(join(STORIES, f)).equals(data), `${f} untouched`)
    }
    rmSync(sandbox, {recursive: true, force: true})
  }

  it('a crafted commit id (model info sha)', async () => {
    await fc.assert(
      fc.asyncProperty(anything, async (sha) => attempt((route, body) => (route === 'info' ? {...(body as object), sha} : body))),
      {numRuns: RUNS},
    )
  })

  it('crafted file names, hashes and sizes in the tree listing', async () => {
    const entry = fc.record({type: fc.oneof(fc.constant('file'), anything), path: anything, size: fc.oneof(fc.nat(), anything), oid: anything, lfs: fc.option(fc.record({oid: anything, size: fc.nat()}), {nil: undefined})}, {requiredKeys: ['type', 'path']})
    await fc.assert(
      fc.asyncProperty(fc.array(entry, {maxLength: 4}), fc.boolean(), async (extra, keep) =>
        attempt((route, body) => (route === 'tree' ? [...(keep ? (body as unknown[]) : []), ...extra] : body)),
      ),
      {numRuns: RUNS},
    )
  })

  it('answers that are not the JSON the client expects', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom<FakeHubRoute>('info', 'tree'), fc.oneof(anything, fc.string().map((s) => `{${s}`)), async (where, answer) =>
        attempt((route, body) => (route === where ? (typeof answer === 'string' ? answer : answer) : body)),
      ),
      {numRuns: RUNS},
    )
  })
})
