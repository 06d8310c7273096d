import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, relative} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'
import {renderMeasuredCard} from '../../src/publish/measured-card.js'
import {dlec, python, ROOT, STORIES} from '../helpers/cli.js'
import {FakeHub} from '../helpers/fake-hub.js'

const run = promisify(execFile)
const TOKEN = 'hf_MeasuredCardCanary0123456789abc'
const DATA = join(ROOT, 'fixtures', 'calibration', 'stories.txt')

interface ParsedCard {
  data: Record<string, unknown>
  eval_results: Array<{task: string; dataset: string; dataset_revision: string; metric: string; value: number}>
  text: string
}

async function parseCard(path: string): Promise<ParsedCard> {
  const {stdout} = await run(python(), [join(ROOT, 'test/python/model_card.py'), path])
  return JSON.parse(stdout) as ParsedCard
}

const files = (dir: string): string[] =>
  readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort()

describe('the measured model card', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dlec-card-'))
  let hub: FakeHub
  before(async () => {
    hub = await new FakeHub(TOKEN).start()
    const seed: Record<string, Buffer> = {}
    for (const f of readdirSync(STORIES)) {
      seed[f] = readFileSync(join(STORIES, f))
    }
    seed['README.md'] = Buffer.from('---\nlicense: mit\ntags:\n- llama2.c\n---\n# stories260K\n')
    hub.seed('karpathy/stories260K', seed)
  })
  after(async () => {
    await hub.stop()
    rmSync(tmp, {recursive: true, force: true})
  })

  it('expand from a Hub id --push: one commit with the card and its images; the card parses with ModelCard and carries the measurements', async () => {
    const out = join(tmp, 'stories-7L')
    const r = await dlec(
      ['expand', 'karpathy/stories260K', '--add-layers', '2', '--data', DATA, '--max-tokens', '600', '--engine', 'native', '--out', out, '--db', join(tmp, 'a.duckdb'), '--push', 'me/stories-7L', '--token', TOKEN, '--json'],
      {env: {HF_HUB_CACHE: join(tmp, 'hf'), HF_ENDPOINT: hub.url, HF_TOKEN: '', HF_HOME: join(tmp, 'home')}},
    )
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!r.stdout.includes(TOKEN) && !r.stderr.includes(TOKEN))
    const report = JSON.parse(r.stdout) as {
      plan: {kl: number; lossDelta: number; top1: number; layers: number[]; paramsBefore: number; paramsAfter: number}
      check: {perplexity: number}
      cardFiles: string[]
      push: {commit: string; repo: string}
    }
    assert.deepEqual(report.cardFiles, ['README.md', 'images/expansion-curve.png', 'images/layer-scores.png'])
    // One commit holding exactly the folder, byte for byte, images included.
    const repo = hub.repos.get('me/stories-7L')
    assert.equal(repo?.commits.length, 1)
    const commit = hub.commitAt('me/stories-7L')
    assert.equal(commit?.oid, report.push.commit)
    assert.deepEqual([...(commit?.files.keys() ?? [])].sort(), files(out))
    for (const f of files(out)) {
      assert.ok(commit?.files.get(f)?.data.equals(readFileSync(join(out, f))), f)
    }
    // The images are real PNGs (Pillow decodes them).
    const {stdout: sizes} = await run(python(), ['-c', 'import sys; from PIL import Image; print(*[Image.open(p).size[0] for p in sys.argv[1:]])', join(out, 'images/expansion-curve.png'), join(out, 'images/layer-scores.png')])
    assert.ok(sizes.trim().split(' ').every((w) => Number(w) > 100))
    const card = await parseCard(join(out, 'README.md'))
    assert.deepEqual(card.data.base_model, ['karpathy/stories260K'])
    assert.equal(card.data.license, 'mit')
    assert.equal(card.data.library_name, 'transformers')
    assert.equal(card.data.pipeline_tag, 'text-generation')
    assert.deepEqual(card.data.tags, ['mergekit', 'merge', 'dlec', 'layer-duplication'])
    const metric = (type: string): number | undefined => card.eval_results.find((e) => e.metric === type)?.value
    const close = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b))
    assert.ok(close(metric('perplexity'), report.check.perplexity))
    assert.ok(close(metric('kl_divergence'), report.plan.kl))
    assert.ok(close(metric('loss_delta'), report.plan.lossDelta))
    assert.ok(close(metric('top1_agreement'), report.plan.top1))
    assert.ok(card.eval_results.every((e) => e.dataset === 'stories.txt' && /^[0-9a-f]{16}$/.test(e.dataset_revision) && e.task === 'text-generation'))
    // The body: how layers were chosen with the curve table, the images, layer map, parameters, YAML, reproduce.
    assert.match(card.text, /- strategy: `greedy`/)
    assert.match(card.text, /\| added layers \| parameters \| mean KL \|/)
    assert.match(card.text, /!\[expansion curve[^\]]*\]\(images\/expansion-curve\.png\)/)
    assert.match(card.text, /!\[Block Influence[^\]]*\]\(images\/layer-scores\.png\)/)
    assert.equal((card.text.match(/^\| \d+ \| \d+ \| (original|copy) \|$/gm) ?? []).length, 7)
    assert.match(card.text, new RegExp(`Parameters: ${report.plan.paramsBefore.toLocaleString('en-US')} \\(.*\\) before, ${report.plan.paramsAfter.toLocaleString('en-US')} \\(.*\\) after`))
    assert.match(card.text, /```yaml\nmerge_method: passthrough\nslices:\n- sources:\n {2}- model: karpathy\/stories260K\n/)
    assert.match(card.text, /dlec expand karpathy\/stories260K --add-layers 2 --strategy greedy .*--data stories\.txt --out stories-7L/)
    assert.ok(!card.text.includes(tmp), 'no local path in the card')
    assert.doesNotMatch(card.text, /Needs fine-tuning/)
  })

  it('identity copies are labelled as needing fine-tuning; a local base is never base_model; no data, no model-index', async () => {
    const text = renderMeasuredCard({
      name: 'pro',
      plan: {
        model: '/home/me/models/tiny',
        strategy: 'identity',
        duplications: [{start: 2, end: 3}],
        layers: [0, 1, 2, 2, 3, 4],
        identityCopies: true,
        paramsBefore: 1000,
        paramsAfter: 1200,
        kl: 0,
        lossDelta: 0,
        top1: 1,
        yaml: 'slices:\n- sources:\n  - model: /home/me/models/tiny\n    layer_range: [0, 3]\n',
        source: 'construction',
      },
      engine: 'native',
    })
    const path = join(tmp, 'identity.md')
    writeFileSync(path, text)
    const card = await parseCard(path)
    assert.equal(card.data.base_model, undefined)
    assert.equal(card.data['model-index'], undefined)
    assert.deepEqual(card.eval_results, [])
    assert.match(card.text, /\*\*Needs fine-tuning\.\*\* The 1 added layers are identity copies/)
    assert.match(card.text, /^\| 3 \| 2 \| identity copy \(needs fine-tuning\) \|$/m)
    assert.ok(!text.includes('/home/me'))
    assert.match(card.text, /- model: \.\/tiny\n/)
    assert.match(card.text, /dlec expand tiny --add-layers 1 --strategy identity --out pro/)
  })
})
