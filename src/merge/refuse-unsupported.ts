import {MergeError} from '../errors.js'
import type {MergeConfig} from '../mergekit/merge-config.js'

const USE_MERGEKIT = 'use --engine mergekit'

/**
 * Throws a MergeError naming the first feature of `config` the native engine does not implement
 * (it only does mergekit's passthrough over `slices` with one source each, no LoRA, no tokenizer
 * surgery), so nothing is merged differently from mergekit.
 */
export function refuseUnsupported(config: MergeConfig): void {
  if (config.merge_method !== 'passthrough') {
    throw new MergeError(`merge_method ${config.merge_method} is not supported by the native engine (passthrough only); ${USE_MERGEKIT}`, 'DLEC_MERGE_UNSUPPORTED')
  }
  const refuse = (what: string): never => {
    throw new MergeError(`${what} is not supported by the native engine; ${USE_MERGEKIT}`, 'DLEC_MERGE_UNSUPPORTED')
  }
  if (config.modules !== undefined) {
    refuse('modules: (multi-module models)')
  }
  if (config.slices === undefined) {
    refuse('models: without slices (whole-model passthrough)')
  }
  if (config.tokenizer_source !== undefined) {
    refuse('tokenizer_source')
  }
  if (config.tokenizer !== undefined) {
    refuse('tokenizer')
  }
  if (config.chat_template !== undefined) {
    refuse('chat_template')
  }
  for (const [i, slice] of (config.slices ?? []).entries()) {
    if (slice.sources.length !== 1) {
      throw new MergeError(`slices[${i}]: passthrough takes exactly one source per slice (found ${slice.sources.length})`)
    }
    for (const source of slice.sources) {
      if (source.model.includes('+')) {
        refuse(`slices[${i}]: LoRA model reference ${source.model}`)
      }
    }
  }
  if (config.base_model?.includes('+')) {
    refuse(`base_model: LoRA model reference ${config.base_model}`)
  }
}
