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
export {encodeSafetensorsHeader, type TensorToWrite} from './safetensors/encode-header.js'
export {planPassthrough, type CopyOp, type PassthroughPlan, type SourceModel, type TensorSource} from './merge/passthrough-plan.js'
export {executeMerge, type ExtraFile} from './merge/execute.js'
export type {MergeEvent} from './merge/merge-event.js'
export {prepareNativeMerge, type PreparedMerge, type ModelLookup} from './merge/prepare-native-merge.js'
export {convertChunk, type Conversion} from './merge/convert-chunk.js'
export {outputConfig} from './merge/output-config.js'
export {renderModelCard, type ModelCardParams} from './hub/card.js'
export {openStore} from './store/open-store.js'
export {openDb, type Db, type SqlValue, type ColumnData} from './store/db.js'
export {SCHEMA_VERSION} from './store/schema.js'
export {findRun, type RunRecord, type RunStatus} from './store/runs.js'
export {exportParquet, type ParquetColumn} from './store/export-parquet.js'
// Profiling and layer scores.
export {profileModel, profileModelIter, type ProfileParams, type ProfileEvent, type ProfileResult} from './profile/profile-model.js'
export {parseRawMode, type RawMode} from './profile/raw-positions.js'
export {scoreRun, type ScoreReport} from './scoring/score-run.js'
export {layerScores, type LayerScore} from './scoring/layer-score.js'
export {dlecOriginalRule, dlecCorrectedRule, DEFAULT_BINS, type DlecRuleResult, type DlecRuleRow} from './scoring/dlec-rule.js'
export {scoreColumns, scoreCsv, scoreTable} from './scoring/score-table.js'
export {layoutLineChart, niceTicks, type ChartLayout, type LineChartParams, type ChartSeries} from './plot/line-chart.js'
export {chartSvg} from './plot/chart-svg.js'
export {chartPng, encodePng} from './plot/chart-png.js'
export {scoreChart} from './plot/score-plot.js'
export {mergeModel, type MergeReport, type MergeEngine, type PlanRow} from './merge/merge-model.js'
export {findMergekit, runMergekit} from './mergekit/run-mergekit.js'
export {parseShardSize} from './merge/parse-shard-size.js'
export {insertEvals, listEvals, type EvalRecord, type StoredEval} from './store/evals.js'
export {exportRunTables, RUN_TABLES} from './store/export-run.js'
// The whole pipeline.
export {expandModelIter, type ExpandParams, type ExpandReport, type ExpandEvent} from './expand/expand-model.js'
// The expansion curve and the planner (dlec curve, dlec plan).
export {
  addedLayers,
  expandLayers,
  makeLayerPlan,
  formatDuplications,
  formatLayerSequence,
  type Duplication,
  type LayerPlan,
} from './scoring/layer-plan.js'
export {parameterBreakdown, sequenceParameterCount, baseParameterCount, type ParameterBreakdown} from './scoring/parameter-count.js'
export {resolveTargetSize, parseParameterCount, parseGrowth, type TargetSize, type ResolvedTarget} from './scoring/target-size.js'
export {STRATEGIES, STRATEGY_NAMES, parseStrategies, type StrategyName} from './scoring/strategies.js'
export {expansionCurveIter, type CurvePoint, type CurveReport, type CurveEvent, type EvaluatedCandidate} from './scoring/expansion-curve.js'
export {candidateBlocks, candidateBand, parseCandidateSpec, parseBlockSizes, type CandidateSpec} from './curve/candidate-blocks.js'
export {identityPlacement} from './curve/identity-strategy.js'
export {scoreCurvePlacement, weightsFromBlockInfluence} from './curve/score-curve-strategy.js'
export {dlecOriginalPlacement, dlecOriginalSeams} from './curve/dlec-original-strategy.js'
export {searchExpansions, type Measurement, type SearchState, type SearchEvent, type Objective} from './curve/expansion-search.js'
export {createCurveEvaluator, type CurveEvaluator} from './curve/curve-evaluator.js'
export {measureCurve, measureCurveIter, type MeasureCurveParams, type MeasuredCurve} from './curve/measure-curve.js'
export {planExpansion, planExpansionIter, type PlanExpansionParams, type PlanReport} from './curve/plan-expansion.js'
export {recordCurve, recordPlan, findCurvePoint, dataHash} from './curve/curve-store.js'
export {curveChart, blockHeatmap} from './curve/curve-charts.js'
export {writeChart} from './curve/write-chart.js'
