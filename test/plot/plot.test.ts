import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {formatCount, niceTicks} from '../../src/plot/axis.js'
import {chartSvg} from '../../src/plot/chart-svg.js'
import {layoutLineChart} from '../../src/plot/line-chart.js'
import {scoreChart} from '../../src/plot/score-plot.js'
import {writeChart} from '../../src/plot/write-chart.js'
import type {ScoreReport} from '../../src/scoring/score-run.js'
import {python} from '../helpers/cli.js'
import {luminance, pngStats} from '../helpers/png.js'

const dir = mkdtempSync(join(tmpdir(), 'dlec-plot-'))
const chart = layoutLineChart({
  title: 'Scores <test> & more: Δloss ‖ 5%',
  xLabel: 'layer',
  yLabel: 'score',
  x: [0, 1, 2, 3],
  series: [
    {name: 'a', values: [0.1, 0.4, null, 0.2]},
    {name: 'b', values: [0.3, 0.3, 0.3, 0.3]},
  ],
  width: 400,
  height: 300,
})

describe('plots', () => {
  it('picks nice ticks that cover the data, and labels counts with K/M/B', () => {
    assert.deepEqual(niceTicks(0, 0.398), [0, 0.1, 0.2, 0.3, 0.4])
    assert.deepEqual(niceTicks(0, 1.76), [0, 0.5, 1, 1.5, 2])
    assert.deepEqual(niceTicks(-3, 7, 5), [-4, -2, 0, 2, 4, 6, 8])
    assert.deepEqual([6_738_415_616, 1_619_066_880, 202_383_360, 24_500, 310, 0, -45_440].map((n) => formatCount(n)), ['6.74B', '1.62B', '202M', '24.5K', '310', '0', '-45.4K'])
    assert.equal(formatCount(1_500_000_000, 2), '1.5B')
  })

  it('writes SVG that an XML parser reads, with escaped text, one polyline per unbroken run, and distinct dashes', () => {
    const path = join(dir, 'c.svg')
    writeFileSync(path, chartSvg(chart))
    const script = [
      'import json, sys, xml.etree.ElementTree as ET',
      'ns = {"s": "http://www.w3.org/2000/svg"}',
      'root = ET.parse(sys.argv[1]).getroot()',
      'print(json.dumps({"texts": [t.text for t in root.findall("s:text", ns)], "polylines": [(p.get("data-tag"), len(p.get("points").split()), p.get("stroke-dasharray")) for p in root.findall("s:polyline", ns)]}))',
    ].join('\n')
    const parsed = JSON.parse(execFileSync(python(), ['-c', script, path]).toString()) as {texts: string[]; polylines: Array<[string, number, string | null]>}
    assert.equal(parsed.texts[0], 'Scores <test> & more: Δloss ‖ 5%')
    assert.deepEqual(
      parsed.polylines.map(([tag, n]) => [tag, n]),
      [
        ['series:a', 2],
        ['series:b', 4],
      ],
      'series a breaks at its null (its last point stands alone: a marker, no line)',
    )
    assert.notEqual(parsed.polylines[0]?.[2], parsed.polylines[1]?.[2], 'the two series have different dash patterns')
  })

  it('renders the same SVG to a PNG with resvg: right size, anti-aliased, with real text', async () => {
    const path = join(dir, 'c.png')
    await writeChart({layout: chart, path})
    assert.deepEqual([...readFileSync(path).subarray(1, 4)], [0x50, 0x4e, 0x47])
    // the title's box (centred at the top) and an empty corner
    const title = chart.shapes.find((s) => s.kind === 'text' && s.text.startsWith('Scores'))
    assert.ok(title !== undefined && title.kind === 'text')
    const stats = pngStats(path, [
      [title.x - 120, title.y - 14, title.x + 120, title.y + 4],
      [0, 0, 8, 8],
    ])
    assert.equal(stats.width, 400)
    assert.equal(stats.height, chart.height)
    assert.ok(stats.colors > 50, `anti-aliased lines and text give many colours (got ${stats.colors})`)
    const [text, corner] = stats.boxes
    assert.ok(text !== undefined && corner !== undefined)
    assert.ok(text.spread > 150, 'the title is drawn: dark glyphs on white')
    assert.ok(luminance(text.mean) < 245, 'the title box holds ink')
    assert.equal(corner.spread, 0)
    assert.deepEqual(corner.mean, [255, 255, 255])
  })

  it('refuses a plot path without .svg or .png, writing nothing', async () => {
    await assert.rejects(writeChart({layout: chart, path: join(dir, 'c.jpg')}), /must end in \.svg or \.png/)
    assert.ok(!readdirSync(dir).some((f) => f.startsWith('c.jpg')))
  })

  it('score plot: the original DLEC rule sits on hidden-state boundaries, labelled h_k (h0 = embeddings)', () => {
    const layers = [0, 1, 2, 3].map((l) => ({layer: l, sourceLayer: l, blockInfluence: 0.2 - l * 0.02, angular: [0.1, 0.2, null, null, null, null, null, null], normGrowth: 1.2, tokens: 10, dlecOriginal: true, dlecCorrected: l === 2}))
    const report = {
      run: {runId: 1, name: 'r', model: 'm', layers: [0, 1, 2, 3], samples: 2, tokens: 20, dataSource: 'd', raw: 'sample:8'},
      layers,
      dlecOriginal: {variant: 'original', description: '', rows: [], beneficial: [0, 1, 4]},
      dlecCorrected: {variant: 'corrected', description: '', rows: [], beneficial: [2]},
    } as unknown as ScoreReport
    const layout = scoreChart(report)
    const text = (t: string, tag?: string): number => {
      const s = layout.shapes.find((q) => q.kind === 'text' && q.text === t && (tag === undefined || q.tag === tag))
      assert.ok(s !== undefined && s.kind === 'text', `text ${t}`)
      return s.x
    }
    const tick = (l: number): number => text(String(l), 'xtick')
    assert.ok(text('h0') < tick(0), 'h0 (the embeddings) is before layer 0')
    assert.ok(Math.abs(text('h1') - (tick(0) + tick(1)) / 2) < 0.01, 'h1 (output of layer 0) is between layers 0 and 1')
    assert.ok(text('h4') > tick(3), 'h4 (after the last layer) is after layer 3')
    assert.ok(layout.shapes.some((s) => s.kind === 'text' && /hidden_states h_k \(h0 = embeddings/.test(s.text)))
    assert.equal(layout.shapes.filter((s) => s.tag === 'mark:corrected DLEC rule: flags layer l' && s.kind !== 'text').length, 1)
  })
})
