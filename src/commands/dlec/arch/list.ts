import {DlecCommand} from '../../../cli/base-command.js'
import {listArchitectures} from '../../../architectures/registry.js'

export interface ArchListEntry {
  name: string
  architectures: string[]
  modelTypes: string[]
  blockKind: string
  numLayersKey: string
  layerTensors: number
}

export default class ArchList extends DlecCommand {
  static override description = 'List the model architectures dlec supports (read from architectures/*.json).'
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static override summary = 'List supported architectures.'

  async run(): Promise<ArchListEntry[]> {
    await this.parse(ArchList)
    const entries = listArchitectures().map((d) => ({
      name: d.name,
      architectures: d.architectures,
      modelTypes: d.modelTypes,
      blockKind: d.blockKind,
      numLayersKey: d.numLayersKey,
      layerTensors: d.layerWeights.length,
    }))
    if (!this.jsonEnabled()) {
      for (const e of entries) {
        this.log(`${e.name.padEnd(10)} ${e.architectures.join(', ').padEnd(40)} block=${e.blockKind} layers=${e.numLayersKey}`)
      }
    }
    return entries
  }
}
