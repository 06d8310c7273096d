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
