import {readdir, readFile, realpath} from 'node:fs/promises'
import {basename, join, resolve} from 'node:path'
import {numLayersOf, resolveArchitecture, type ModelConfigJson} from '../architectures/registry.js'
import type {ArchitectureDefinition} from '../architectures/schema.js'
import {MergeError} from '../errors.js'
import {renderModelCard} from '../hub/card.js'
import {tensorBeyondDepth} from '../architectures/match-checkpoint.js'
import {checkLayerRanges} from '../mergekit/check-layer-ranges.js'
import {layerMap, slicesOf, type LayerMapEntry} from '../mergekit/layer-map.js'
import type {MergeConfig} from '../mergekit/merge-config.js'
import {parseModelReference} from '../mergekit/model-reference.js'
import {loadModelConfig} from '../model/load-model-config.js'
import {resolveModel, type ModelLookup, type ResolvedModel} from '../model/resolve-model.js'
import {ShardedTensorIndex} from '../safetensors/reader.js'
import {checkConversion} from './convert-chunk.js'
import type {ExtraFile} from './engines/execute-native.js'
import {parseLosslessJson, stringifyLosslessJson} from './lossless-json.js'
import {outputConfig} from './output-config.js'
import {planPassthrough, type PassthroughPlan} from './passthrough-plan.js'
import {checkSideFiles} from './check-side-files.js'
import {refuseUnsupported} from './refuse-unsupported.js'
import {realOutputPath, refuseOverlap} from './staging-dir.js'
import {tokenizerFilesToCopy} from './tokenizer-files.js'

export interface PreparedMerge {
  plan: PassthroughPlan
  layers: LayerMapEntry[]
  arch: ArchitectureDefinition
  /** Opened source checkpoints by model reference; closed by `close()`. */
  sources: Map<string, ShardedTensorIndex>
  models: Map<string, ResolvedModel>
  donor: string
  /** config.json, README.md, mergekit_config.yml and the donor's tokenizer files. */
  files: ExtraFile[]
  close(): Promise<void>
}

/**
 * Everything the native engine needs before a byte moves: refuses what it does not implement,
 * resolves and opens every model of the config (folder, HF cache or download), checks they share
 * one architecture and that every layer range exists, plans the copy, and builds the merged
 * config.json (donor: `base_model`, else the first slice's model), model card and file list.
 */
export async function prepareNativeMerge(params: {
  config: MergeConfig
  /** The YAML text, written verbatim as mergekit_config.yml and into the card. */
  yaml: string
  /** Where the YAML came from, for error messages. */
  source: string
  out: string
  outShardSize: number
  lookup?: ModelLookup
}): Promise<PreparedMerge> {
  const {config} = params
  refuseUnsupported(config)
  const refs = [...new Set([...slicesOf(config).flatMap((s) => s.sources.map((src) => src.model)), ...(config.base_model ? [config.base_model] : [])])]
  const models = new Map<string, ResolvedModel>()
  const sources = new Map<string, ShardedTensorIndex>()
  const configs = new Map<string, ModelConfigJson>()
  const close = async (): Promise<void> => {
    await Promise.all([...sources.values()].map((s) => s.close()))
  }
  try {
    let arch: ArchitectureDefinition | undefined
    const depths = new Map<string, number>()
    for (const ref of refs) {
      const parsed = parseModelReference(ref)
      if (parsed === undefined) {
        throw new MergeError(`${params.source}: cannot parse model reference ${ref}`)
      }
      const resolved = await resolveModel({...params.lookup, cacheDir: params.lookup?.hubCache, model: parsed.model.path, revision: parsed.model.revision})
      refuseOverlap(await realOutputPath(params.out), await realpath(resolved.dir), params.out, resolved.dir)
      models.set(ref, resolved)
      const modelConfig = await loadModelConfig(resolved.dir)
      configs.set(ref, modelConfig)
      const modelArch = resolveArchitecture(modelConfig, join(resolved.dir, 'config.json'))
      if (arch !== undefined && arch.name !== modelArch.name) {
        throw new MergeError(`${ref} is a ${modelArch.name} model but ${refs[0]} is ${arch.name}: mixing architectures is not supported`)
      }
      arch = modelArch
      const depth = numLayersOf(modelConfig, modelArch, join(resolved.dir, 'config.json'))
      depths.set(ref, depth)
      const index = await ShardedTensorIndex.open(resolved.dir)
      sources.set(ref, index)
      const beyond = tensorBeyondDepth(modelArch, depth, (n) => index.has(n))
      if (beyond !== undefined) {
        throw new MergeError(`${join(resolved.dir, 'config.json')}: says ${modelArch.numLayersKey} ${depth} but the checkpoint has ${beyond}: config.json undercounts the layers`, 'DLEC_CONFIG_MISMATCH')
      }
    }
    if (arch === undefined) {
      throw new MergeError(`${params.source}: the config names no models`)
    }
    checkLayerRanges({config, source: params.source, depthOf: (m) => depths.get(m)})
    const sourceModels = new Map([...sources].map(([ref, index]) => [ref, {index, numLayers: depths.get(ref) ?? 0}]))
    const plan = planPassthrough({config, models: sourceModels, arch, outShardSize: params.outShardSize})
    for (const op of plan.ops) {
      checkConversion(op, op.output)
    }
    const layers = layerMap(config)
    const donor = config.base_model ?? refs[0] ?? ''
    const donorModel = models.get(donor)
    const donorConfig = configs.get(donor)
    if (donorModel === undefined || donorConfig === undefined) {
      throw new MergeError(`donor model ${donor} was not resolved`)
    }
    // The donor's JSON re-read keeping number formatting (30.0 stays 30.0).
    const donorJson = parseLosslessJson(await readFile(join(donorModel.dir, 'config.json'), 'utf8')) as ModelConfigJson
    const merged = outputConfig({donor: donorJson, arch, layers, sources: configs, dtype: config.out_dtype ?? config.dtype})
    const donorFiles = new Set(await readdir(donorModel.dir))
    const sideFiles = await checkSideFiles({dir: donorModel.dir, names: tokenizerFilesToCopy(donorFiles), hubSnapshot: donorModel.revision !== undefined})
    const card = renderModelCard({
      name: basename(resolve(params.out)),
      models: refs,
      hubModels: refs.filter((r) => models.get(r)?.revision !== undefined),
      ...(config.base_model === undefined ? {} : {baseModel: config.base_model}),
      yaml: params.yaml,
      engine: 'native',
    })
    const files: ExtraFile[] = [
      {name: 'config.json', content: `${stringifyLosslessJson(merged)}\n`},
      {name: 'README.md', content: card},
      {name: 'mergekit_config.yml', content: params.yaml},
      ...[...sideFiles].map(([name, from]) => ({name, from})),
    ]
    return {plan, layers, arch, sources, models, donor, files, close}
  } catch (error) {
    await close()
    throw error
  }
}
