import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'

/** A cheap identity of the weights: config.json and the names and sizes of the safetensors files. */
export function modelHash(modelDir: string): string | null {
  try {
    const hash = createHash('sha256').update(readFileSync(join(modelDir, 'config.json')))
    for (const file of readdirSync(modelDir).filter((f) => f.endsWith('.safetensors')).sort()) {
      hash.update(`${file}:${statSync(join(modelDir, file)).size}`)
    }
    return hash.digest('hex').slice(0, 16)
  } catch {
    return null
  }
}
