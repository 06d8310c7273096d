import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {load} from 'js-yaml'
import {curveChart} from '../curve/curve-charts.js'
import {layoutLineChart} from '../plot/line-chart.js'
import {chartPng} from '../plot/render-png.js'
import {renderMeasuredCard, type MeasuredCardParams} from './measured-card.js'

/** Where the card's images go, inside the model folder (and so in the same push). */
export const CARD_IMAGES_DIR = 'images'

/**
 * Writes the measured card into a model folder as README.md, with the curve and layer-score
 * images it shows under `images/` (when the plan was measured). Each file goes through a temp
 * path and a rename. Returns the files written, relative to `dir`.
 */
export async function writeMeasuredCard(params: Omit<MeasuredCardParams, 'images'> & {dir: string}): Promise<string[]> {
  const {dir, ...card} = params
  const images: NonNullable<MeasuredCardParams['images']> = []
  const written: string[] = []
  const curve = card.plan.curve
  if (curve !== undefined && curve.points.length > 0) {
    await mkdir(join(dir, CARD_IMAGES_DIR), {recursive: true})
    const charts = [
      {file: 'expansion-curve.png', alt: 'expansion curve: mean KL against the base as layers are added', layout: curveChart(curve)},
      {
        file: 'layer-scores.png',
        alt: 'Block Influence of each layer of the base model (1 - cos(input, output))',
        layout: layoutLineChart({
          title: 'Block Influence per layer of the base model',
          xLabel: 'layer',
          yLabel: '1 - cos(h_in, h_out)',
          x: curve.blockInfluence.map((_, i) => i),
          series: [{name: 'block influence', values: curve.blockInfluence}],
          xInteger: true,
        }),
      },
    ]
    for (const chart of charts) {
      const path = `${CARD_IMAGES_DIR}/${chart.file}`
      await atomicWrite(join(dir, path), chartPng(chart.layout))
      images.push({path, alt: chart.alt})
      written.push(path)
    }
  }
  await atomicWrite(join(dir, 'README.md'), renderMeasuredCard({...card, images}))
  return ['README.md', ...written]
}

/** The `license` a model card's YAML front matter states, if any. */
export async function readCardLicense(dir: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(join(dir, 'README.md'), 'utf8')
  } catch {
    return undefined
  }
  const front = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text)?.[1]
  if (front === undefined) {
    return undefined
  }
  try {
    const license = (load(front) as {license?: unknown} | null)?.license
    return typeof license === 'string' && /^[A-Za-z0-9.+_-]{1,64}$/.test(license) ? license : undefined
  } catch {
    return undefined
  }
}

async function atomicWrite(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, content)
  await rename(tmp, path)
}
