// dlec's programmatic API: each pipeline step as a `*Iter` generator that yields progress events,
// its drained twin, their params, reports and events, the errors, and the values they share
// (LoadedModel, DecoderOptions). Never imports oclif. Everything else is internal.

// Errors: one class per kind, one exit-code map.
export * from './errors.js'

// The values every step shares.
export {loadModel, loadModelIter, type LoadedModel, type LoadModelParams, type ModelInput, type ModelSource} from './model/loaded-model.js'
export {resolveModel, resolveModelIter, type ModelLookup, type ResolvedModel, type ResolveModelParams} from './model/resolve-model.js'
export {downloadModel, type DownloadEvent} from './model/download-model.js'
export type {ParameterBreakdown} from './model/parameter-count.js'
export {resolveDevice, DEVICES, type DecoderOptions, type Device, type DeviceChoice, type ResolvedDevice} from './onnx/devices.js'
export type {WeightFormat} from './onnx/weight-store.js'
export {chooseWeightFormat, FP32_AUTO_LIMIT_BYTES, QUANT_CHOICES, type FormatDecision, type QuantChoice} from './onnx/weight-format.js'
export {cpuFeatures, type CpuFeatures} from './onnx/cpu-features.js'
export {drain} from './drain.js'

// Data.
export {loadTexts, type LoadTextsParams} from './data/load-texts.js'

// eval: a model or a layer sequence against the original.
export {evaluate, evaluateIter, type EvaluateParams, type EvalReport, type EvaluateEvent} from './eval/evaluate.js'
export type {ProbeItem, ProbeResult} from './eval/probe.js'
export {planLayers, type PlanLayers} from './eval/plan-layers.js'
export type {OpenDecoderEvent, DeviceEvent} from './onnx/open-decoder.js'
export type {WeightStoreEvent} from './onnx/weight-store.js'

// profile and score.
export {profileModel, profileModelIter, type ProfileParams, type ProfileEvent, type ProfileResult} from './profile/profile-model.js'
export type {RawMode} from './profile/raw-positions.js'
export {scoreRun, type ScoreReport} from './scoring/score-run.js'

// curve and plan.
export {measureCurve, measureCurveIter, type MeasureCurveParams, type MeasuredCurve, type MeasureCurveEvent} from './curve/measure-curve.js'
export type {CurvePoint, CurveReport, CurveEvent, EvaluatedCandidate} from './curve/expansion-curve.js'
export type {Measurement, Objective} from './curve/expansion-search.js'
export type {Duplication} from './curve/layer-plan.js'
export type {CandidateSpec} from './curve/candidate-blocks.js'
export {STRATEGIES, type StrategyName} from './curve/strategies.js'
export type {TargetSize, ResolvedTarget} from './curve/target-size.js'
export {planExpansion, planExpansionIter, type PlanExpansionParams, type PlanReport} from './curve/plan-expansion.js'

// merge, and the mergekit config model.
export {mergeModel, mergeModelIter, type MergeModelParams, type MergeReport, type MergeEngine, type ParsedMergeYaml, type PlanRow} from './merge/merge-model.js'
export type {MergeEvent} from './merge/merge-event.js'
export {readMergeConfig} from './mergekit/read-merge-config.js'
export type {MergeConfig} from './mergekit/merge-config.js'
export {describeLayers, type LayersReport} from './merge/describe-layers.js'

// generate: text from a model or a zero-copy expansion, with the KV cache.
export {generate, generateIter, type GenerateParams, type GenerateReport, type GenerateEvent} from './generate/generate.js'
export type {Sampling} from './generate/pick-token.js'

// The whole pipeline.
export {expandModel, expandModelIter, type ExpandParams, type ExpandReport, type ExpandEvent} from './expand/expand-model.js'

// push: a folder and its model card to the Hub.
export {pushModel, pushModelIter, type PushEvent, type PushParams, type PushPhase, type PushReport} from './publish/push-model.js'
