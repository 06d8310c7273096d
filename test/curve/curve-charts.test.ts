import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'
import {Resvg} from '@resvg/resvg-js'
import {blockHeatmap, type HeatmapBlock} from '../../src/curve/block-heatmap.js'
import {curveChart, IDENTITY_NOTE, type CurveChartPoint} from '../../src/curve/curve-charts.js'
import {chartPng} from '../../src/plot/render-png.js'
import {chartSvg} from '../../src/plot/chart-svg.js'
import type {ChartLayout, Shape} from '../../src/plot/shapes.js'
import {luminance, pngStats} from '../helpers/png.js'
import {ROOT} from '../helpers/cli.js'

/** The fonts dlec renders PNGs with (fonts/): text boxes are measured with the same glyphs. */
const BUNDLED_FONTS = ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf'].map((f) => join(ROOT, 'fonts', f))

const dir = mkdtempSync(join(tmpdir(), 'dlec-curve-charts-'))

function points(params: {base: number; perLayer: number; maxAdd: number; strategies: string[]; ci?: boolean}): CurveChartPoint[] {
  const out: CurveChartPoint[] = []
  for (const [si, strategy] of params.strategies.entries()) {
    for (let added = 1; added <= params.maxAdd; added++) {
      const identity = strategy === 'identity'
      // greedy and beam agree on the first sizes: their lines coincide there
      const kl = identity ? 0 : 0.05 * added * (1 + (added > 2 ? si * 0.05 : 0))
      out.push({
        strategy,
        added,
        params: params.base + params.perLayer * added,
        measured: !identity,
        kl,
        lossDelta: kl * 0.8,
        top1: 1 - kl,
        duplications: [{start: 3 + added, end: 4 + added}],
        ...(params.ci === true && !identity ? {klCi: [kl * 0.8, kl * 1.2] as const, lossDeltaCi: [kl * 0.6, kl] as const, top1Ci: [1 - kl * 1.2, 1 - kl * 0.8] as const} : {}),
      })
    }
  }
  return out
}

type Text = Extract<Shape, {kind: 'text'}>
type Rect = Extract<Shape, {kind: 'rect'}>

function texts(layout: ChartLayout, tag: string): Text[] {
  return layout.shapes.filter((s): s is Text => s.kind === 'text' && s.tag === tag)
}

function rects(layout: ChartLayout, prefix: string): Rect[] {
  return layout.shapes.filter((s): s is Rect => s.kind === 'rect' && s.tag?.startsWith(prefix) === true)
}

/** The real box resvg gives a text shape's glyphs (DejaVu Sans), rendered alone. */
function glyphBox(layout: ChartLayout, shape: Shape): {x0: number; x1: number; y0: number; y1: number} {
  const line = chartSvg({width: layout.width, height: layout.height, shapes: [shape]})
    .split('\n')
    .find((l) => l.startsWith('<text'))
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" font-family="DejaVu Sans, sans-serif">${line}</svg>`
  const box = new Resvg(svg, {font: {fontFiles: BUNDLED_FONTS, loadSystemFonts: false, defaultFontFamily: 'DejaVu Sans'}}).getBBox()
  assert.ok(box !== undefined, 'resvg found a font for the label')
  return {x0: box.x, x1: box.x + box.width, y0: box.y, y1: box.y + box.height}
}

describe('curve charts', () => {
  it('three panels (mean KL, Δloss, top-1), one line per strategy each, starting at the original', () => {
    const layout = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy', 'beam', 'curve']})})
    const titles = layout.shapes.filter((s): s is Text => s.kind === 'text' && s.bold === true).map((s) => s.text)
    for (const t of ['mean KL(original ‖ expanded) per token', 'Δloss against the original', 'top-1 agreement with the original']) {
      assert.ok(titles.includes(t), t)
    }
    const lines = layout.shapes.filter((s) => s.kind === 'polyline')
    assert.deepEqual(
      lines.map((s) => s.tag),
      ['greedy', 'beam', 'curve', 'greedy', 'beam', 'curve', 'greedy', 'beam', 'curve'].map((n) => `series:${n}`),
    )
    for (const l of lines) {
      assert.ok(l.kind === 'polyline' && l.points.length === 4, 'the original and three sizes')
    }
    assert.match(chartSvg(layout), /^<svg/)
  })

  it('greedy cannot hide beam: different dashes and markers, every marker hollow and drawn after the lines', () => {
    const layout = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy', 'beam']})})
    const line = (name: string): Extract<Shape, {kind: 'polyline'}> => layout.shapes.find((s) => s.kind === 'polyline' && s.tag === `series:${name}`) as Extract<Shape, {kind: 'polyline'}>
    assert.notEqual(line('greedy').dash, line('beam').dash)
    assert.notEqual(line('greedy').color, line('beam').color)
    assert.deepEqual(line('greedy').points.slice(0, 3), line('beam').points.slice(0, 3), 'the test data coincide on the first sizes')
    const kinds = (name: string): Set<string> => new Set(layout.shapes.filter((s) => s.tag === `marker:${name}`).map((s) => s.kind))
    assert.notDeepEqual(kinds('greedy'), kinds('beam'))
    const markers = layout.shapes.filter((s) => s.tag?.startsWith('marker:') === true)
    assert.ok(markers.length > 0)
    assert.ok(markers.every((s) => s.kind === 'line' || ('fill' in s && s.fill === 'none')), 'hollow markers')
    assert.ok((line('greedy').width) > line('beam').width, 'the line drawn first is wider: it shows on both sides of the one on top')
    const panelLines = layout.shapes.flatMap((s, i) => (s.kind === 'polyline' ? [i] : [])).slice(0, 2)
    assert.ok(layout.shapes.findIndex((s) => s.tag?.startsWith('marker:') === true) > (panelLines[1] as number), "a panel's markers come after its lines")
  })

  it('identity is labelled "0 by construction; needs fine-tuning"; the chosen plan is circled in every panel', () => {
    const layout = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy', 'beam', 'identity']})})
    assert.equal(IDENTITY_NOTE, '0 by construction; needs fine-tuning')
    assert.ok(texts(layout, 'identity-note').some((s) => s.text.includes(IDENTITY_NOTE)))
    assert.ok(texts(layout, 'legend').some((s) => s.text === `identity (${IDENTITY_NOTE})`))
    assert.equal(layout.shapes.filter((s) => s.tag === 'chosen').length, 3)
    // the lowest KL at +3 is greedy (beam is 5% worse there): the legend says so
    assert.ok(texts(layout, 'legend').some((s) => s.text.startsWith('chosen: greedy +3 = 6')))
    const other = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy', 'beam']})}, {chosen: {strategy: 'beam', added: 2}})
    assert.ok(texts(other, 'legend').some((s) => s.text === 'chosen: beam +2 = 5'))
    const none = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy']})}, {chosen: null})
    assert.equal(none.shapes.filter((s) => s.tag === 'chosen').length, 0)
  })

  it('draws confidence bands only where points carry intervals (klCi, lossDeltaCi, top1Ci)', () => {
    const withCi = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy', 'identity'], ci: true})})
    const bands = withCi.shapes.filter((s) => s.kind === 'polygon' && s.tag?.startsWith('band:') === true)
    assert.deepEqual(
      bands.map((s) => s.tag),
      ['band:greedy', 'band:greedy', 'band:greedy'],
    )
    const kl = bands[0]
    assert.ok(kl !== undefined && kl.kind === 'polygon' && kl.points.length === 8, 'upper and lower edge over the original and three sizes')
    const without = curveChart({baseParams: 1000, points: points({base: 1000, perLayer: 100, maxAdd: 3, strategies: ['greedy']})})
    assert.equal(without.shapes.filter((s) => s.tag?.startsWith('band:') === true).length, 0)
  })

  it('at 7B-70B scale the x axis reads K/M/B and no two axis labels overlap (boxes measured by resvg)', () => {
    const cases = [
      {base: 6_738_415_616, perLayer: 202_383_360, maxAdd: 8},
      {base: 6_738_415_616, perLayer: 202_383_360, maxAdd: 1},
      {base: 70_553_706_496, perLayer: 855_654_400, maxAdd: 16},
      {base: 7_241_732_096, perLayer: 218_112_000, maxAdd: 5},
    ]
    for (const c of cases) {
      for (const x of ['params', 'layers'] as const) {
        const layout = curveChart({baseParams: c.base, points: points({...c, strategies: ['greedy', 'beam', 'curve', 'identity']})}, {x})
        const xt = texts(layout, 'xtick')
        assert.ok(xt.length >= 6, `${c.base}/${x}: at least two x labels per panel`)
        if (x === 'params') {
          assert.ok(xt.every((t) => /^-?\d+(\.\d+)?[KMB]?$/.test(t.text) && t.text.length <= 5), `${xt.map((t) => t.text).join(' ')}`)
          assert.ok(xt.some((t) => /[MB]$/.test(t.text)))
        }
        const labels = [...xt, ...texts(layout, 'ytick')].map((t) => ({t: t.text, ...glyphBox(layout, t)}))
        for (const [i, a] of labels.entries()) {
          for (const b of labels.slice(i + 1)) {
            const overlap = a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1
            assert.ok(!overlap, `${c.base}/${x}: labels ${a.t} and ${b.t} overlap`)
          }
        }
      }
    }
  })

  it('heat-map PNG (decoded by Pillow): the best block is the darkest on the colour bar, unmeasured cells are hatched', () => {
    const blocks: HeatmapBlock[] = [
      {start: 1, end: 2, kl: 0.3, lossDelta: 0, top1: 1},
      {start: 1, end: 3, kl: 0.52, lossDelta: 0, top1: 1},
      {start: 2, end: 3, kl: 0.08, lossDelta: 0, top1: 1},
      {start: 2, end: 4, kl: 0.41, lossDelta: 0, top1: 1},
      {start: 3, end: 4, kl: 0.12, lossDelta: 0, top1: 1},
      {start: 4, end: 5, kl: 0.2, lossDelta: 0, top1: 1},
    ]
    const layout = blockHeatmap({numLayers: 6, blocks})
    const path = join(dir, 'heat.png')
    writeFileSync(path, chartPng(layout))
    const cells = rects(layout, 'cell:')
    const unmeasured = rects(layout, 'unmeasured:')
    const bar = rects(layout, 'colorbar:')
    assert.equal(cells.length, blocks.length)
    assert.deepEqual(
      unmeasured.map((s) => s.tag),
      ['unmeasured:3-5'],
      'the only block of a measured size that was not measured',
    )
    assert.ok(texts(layout, 'colorbar-label').length >= 3, 'a labelled colour bar')
    assert.equal(layout.shapes.filter((s) => s.tag?.startsWith('value:') === true).length, blocks.length, 'values printed in the cells')
    assert.deepEqual(
      layout.shapes.filter((s) => s.tag?.startsWith('chosen:') === true).map((s) => s.tag),
      ['chosen:2-3'],
      'without curve points the best block is the chosen one',
    )
    // a patch in each cell's lower right (clear of the value text and the outline), and the middle of each colour-bar step
    const patch = (r: Rect): [number, number, number, number] => [r.x + r.w * 0.62, r.y + r.h * 0.66, r.x + r.w * 0.62 + 7, r.y + r.h * 0.66 + 7]
    const mid = (r: Rect): [number, number, number, number] => [r.x + 6, r.y + r.h / 2, r.x + 14, r.y + r.h / 2 + 1]
    const stats = pngStats(path, [...cells.map(patch), ...unmeasured.map(patch), ...bar.map(mid)])
    assert.equal(stats.width, layout.width)
    assert.equal(stats.height, layout.height)
    const cellStats = stats.boxes.slice(0, cells.length)
    const hatchStats = stats.boxes.slice(cells.length, cells.length + unmeasured.length)
    const barStats = stats.boxes.slice(cells.length + unmeasured.length)
    // the scale's own order: each cell's position on the colour bar (the nearest step, bar step 0 = lowest value)
    const dist = (a: number[], b: number[]): number => Math.hypot(...a.map((v, i) => v - (b[i] as number)))
    const position = cellStats.map((c) => barStats.reduce((bestK, s, k) => (dist(c.mean, s.mean) < dist(c.mean, (barStats[bestK] as typeof s).mean) ? k : bestK), 0))
    const value = cells.map((c) => blocks.find((b) => c.tag === `cell:${b.start}-${b.end}`)?.kl as number)
    const bestIndex = value.indexOf(Math.min(...value))
    const bestCell = cellStats[bestIndex] as (typeof cellStats)[0]
    for (const [i, p] of position.entries()) {
      if (i !== bestIndex) {
        assert.ok((position[bestIndex] as number) < p, `best block at bar step ${position[bestIndex]}, a worse one (KL ${value[i]}) at ${p}`)
        assert.ok(luminance(bestCell.mean) < luminance((cellStats[i] as (typeof cellStats)[0]).mean), 'and darker')
      }
    }
    const barLum = barStats.map((s) => luminance(s.mean))
    assert.ok(
      barLum.every((l, k) => k === 0 || l >= (barLum[k - 1] as number) - 0.5),
      'the colour bar gets lighter from the best end to the worst',
    )
    assert.ok(cellStats.every((c) => c.spread < 3), 'measured cells are flat colour')
    assert.ok(hatchStats.every((h) => h.spread > 40), 'unmeasured cells carry a pattern')
    const blueness = (m: number[]): number => (m[2] as number) - (m[0] as number)
    assert.ok(cellStats.every((c) => blueness(c.mean) > 15), 'measured cells are blue')
    assert.ok(hatchStats.every((h) => Math.abs(blueness(h.mean)) < 5), 'unmeasured cells are neutral grey')
  })

  it('heat-map values are left out of cells too small for them, and the chosen plan outlines its blocks', () => {
    const blocks: HeatmapBlock[] = []
    for (let start = 0; start < 60; start++) {
      for (let end = start + 1; end <= Math.min(64, start + 4); end++) {
        blocks.push({start, end, kl: 0.1 + start / 100 + end / 1000, lossDelta: 0, top1: 1})
      }
    }
    const chosen = [
      {start: 10, end: 12},
      {start: 20, end: 21},
    ]
    const layout = blockHeatmap({numLayers: 64, blocks}, {chosen})
    assert.equal(layout.shapes.filter((s) => s.tag?.startsWith('value:') === true).length, 0)
    assert.deepEqual(
      layout.shapes.filter((s) => s.tag?.startsWith('chosen:') === true).map((s) => s.tag),
      ['chosen:10-12', 'chosen:20-21'],
    )
    assert.ok(texts(layout, 'legend').some((s) => s.text === 'chosen plan: [10,12)+20'))
  })

  it('only single layers measured: a bar chart over the layers, best bar darkest, unmeasured layers hatched', () => {
    const blocks: HeatmapBlock[] = [2, 3, 5, 6].map((l, i) => ({start: l, end: l + 1, kl: [0.3, 0.1, 0.25, 0.4][i] as number, lossDelta: 0, top1: 1}))
    const layout = blockHeatmap({numLayers: 8, blocks})
    assert.ok(layout.shapes.some((s) => s.kind === 'text' && s.text.startsWith('Layer l run twice')))
    assert.equal(layout.shapes.filter((s) => s.tag?.startsWith('colorbar:') === true).length, 0)
    assert.deepEqual(
      texts(layout, 'xtick').map((t) => t.text),
      ['2', '3', '4', '5', '6'],
    )
    const bars = rects(layout, 'cell:')
    assert.deepEqual(
      rects(layout, 'unmeasured:').map((s) => s.tag),
      ['unmeasured:4-5'],
    )
    const tallest = bars.reduce((a, b) => (b.h > a.h ? b : a))
    assert.equal(tallest.tag, 'cell:6-7', 'bar height follows the value')
    const path = join(dir, 'bars.png')
    writeFileSync(path, chartPng(layout))
    const stats = pngStats(
      path,
      bars.map((b) => [b.x + 3, b.y + b.h - 8, b.x + b.w - 3, b.y + b.h - 3]),
    )
    const lum = stats.boxes.map((b) => luminance(b.mean))
    const best = bars.findIndex((b) => b.tag === 'cell:3-4')
    assert.ok(
      lum.every((l, i) => i === best || l > (lum[best] as number)),
      `best bar darkest: ${lum.join(', ')}`,
    )
  })

  it('heat-map edge cases: nothing measured says so; a negative Δloss bar hangs below zero with its outline around it', () => {
    const empty = blockHeatmap({numLayers: 5, blocks: []})
    assert.equal(texts(empty, 'nothing-measured').length, 1)
    assert.equal(rects(empty, 'cell:').length + rects(empty, 'unmeasured:').length, 0)
    const blocks: HeatmapBlock[] = [
      {start: 1, end: 2, kl: 0.3, lossDelta: 0.05, top1: 1},
      {start: 2, end: 3, kl: 0.2, lossDelta: -0.1, top1: 1},
    ]
    const layout = blockHeatmap({numLayers: 5, blocks}, {metric: 'lossDelta'})
    const [up, down] = rects(layout, 'cell:')
    const outline = rects(layout, 'chosen:')[0]
    assert.ok(up !== undefined && down !== undefined && outline !== undefined)
    assert.equal(outline.tag, 'chosen:2-3', 'the lowest Δloss is the best block')
    assert.ok(Math.abs(up.y + up.h - down.y) < 1e-9, 'both bars meet at the zero line')
    assert.ok(Math.abs(down.h / up.h - 2) < 1e-9, 'bar lengths in proportion: -0.1 is twice 0.05')
    assert.ok(outline.y < down.y && outline.y + outline.h > down.y + down.h, 'the outline encloses the bar')
  })
})
