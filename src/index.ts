// dlec's programmatic API. Never imports oclif: pipelines use these functions directly.
export * from './errors.js'
export * from './architectures/schema.js'
export {
  listArchitectures,
  resolveArchitecture,
  getConfigValue,
  setConfigValue,
  numLayersOf,
  type ModelConfigJson,
} from './architectures/registry.js'
export {substituteTemplate, templateMatcher, type TemplateVars} from './architectures/template.js'
export {matchCheckpoint, type CheckpointMatch, type ExpectedTensor} from './architectures/match-checkpoint.js'
export * from './mergekit/merge-config.js'
export {parseMergeConfig, type ParsedMergeConfig} from './mergekit/parse-merge-config.js'
export {readMergeConfig} from './mergekit/read-merge-config.js'
export {loadYaml} from './mergekit/load-yaml.js'
export {layerMap, slicesOf, type LayerMapEntry} from './mergekit/layer-map.js'
export {resolveParameter, evaluateSetting, type ParameterSite} from './mergekit/resolve-parameter.js'
export {layerSequenceToConfig} from './mergekit/layer-sequence-to-config.js'
export {toYaml} from './mergekit/to-yaml.js'
export {checkLayerRanges} from './mergekit/check-layer-ranges.js'
export {parseModelReference, formatModelReference, type ParsedModelReference, type ModelPath} from './mergekit/model-reference.js'
export {describeLayers, type LayersReport, type LayerRow, type ConfigReport, type ModelSummary} from './mergekit/describe-layers.js'
export {validateMergeConfigFile} from './mergekit/validate-merge-config-file.js'
export {inspectModel, numel, type ModelInspection} from './mergekit/inspect-model.js'
export {readTensorShapes, type TensorShape} from './mergekit/read-tensor-shapes.js'
// Decoder graphs (ONNX Runtime), tokenizer.
export {openDecoder, openDecoderIter, type Decoder, type DecoderResult, type DecoderRunParams, type OpenDecoderParams, type OpenDecoderEvent} from './onnx/open-decoder.js'
export {buildDecoderGraph, type DecoderGraphParams, type GraphWeights} from './onnx/decoder-graph.js'
export {decoderSpec, type DecoderSpec} from './onnx/decoder-spec.js'
export type {GraphOutputRequest} from './onnx/graph-outputs.js'
export type {HostTensor} from './onnx/session.js'
export {loadTokenizer, type TextTokenizer} from './tokenizer/load-tokenizer.js'
export {evaluate, evaluateIter, type EvalReport, type EvaluateEvent, type EvaluateParams} from './eval/evaluate.js'
export {tokenWindows, type TokenWindows} from './eval/token-windows.js'
export {readProbeItems, probeAccuracy, type ProbeItem, type ProbeResult} from './eval/probe.js'
export {readEvalTexts} from './eval/read-eval-texts.js'
export {planLayers} from './eval/plan-layers.js'
export * from './safetensors/dtype.js'
export {parseSafetensorsHeader, readHeaderLength, MAX_HEADER_BYTES, MAX_TENSORS, MAX_TENSOR_DIMS, type SafetensorsHeader, type SafetensorsTensorEntry} from './safetensors/header.js'
export {parseIndexJson, INDEX_FILE, SINGLE_FILE, type SafetensorsIndexJson} from './safetensors/index-json.js'
export {ShardedTensorIndex, readSafetensorsHeader, type TensorInfo} from './safetensors/reader.js'
export {resolveModel, type ResolvedModel} from './model/resolve-model.js'
export {downloadModel, type DownloadEvent, type HubAccess} from './model/download-model.js'
export {findCachedSnapshot, repoFolderName} from './model/hf-cache.js'
export {loadModelConfig} from './model/load-model-config.js'
// Calibration / evaluation data, DuckDB store.
export {loadTexts, splitParagraphs, type LoadTextsParams} from './data/load-texts.js'
export {TEXT_FORMATS, formatFromFileName, type TextFormat} from './data/text-format.js'
