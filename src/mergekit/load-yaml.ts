import {
  FAILSAFE_SCHEMA,
  NOT_RESOLVED,
  Schema,
  YAMLException,
  defineScalarTag,
  floatYaml11Tag,
  intYaml11Tag,
  load,
  mergeTag,
  nullYaml11Tag,
  timestampTag,
} from 'js-yaml'
import {ConfigError} from '../errors.js'

// PyYAML's bools (resolver.py): unlike js-yaml's YAML 1.1 tag, `y`/`n` stay strings.
const TRUE = new Set(['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'])
const FALSE = new Set(['no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'])
const pyyamlBoolTag = defineScalarTag('tag:yaml.org,2002:bool', {
  implicit: true,
  implicitFirstChars: ['y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O'],
  resolve: (source) => (TRUE.has(source) ? true : FALSE.has(source) ? false : NOT_RESOLVED),
  identify: (value) => typeof value === 'boolean',
  represent: (value) => (value ? 'true' : 'false'),
})

/**
 * What `yaml.safe_load` (mergekit's loader) resolves: YAML 1.1 scalars (`yes`/`on` are booleans,
 * `1_000` is an int, `0o17` is a string, `1e3` is a string), anchors, aliases and `<<` merge keys.
 */
export const PYYAML_SAFE_SCHEMA = new Schema([
  ...FAILSAFE_SCHEMA.tags,
  nullYaml11Tag,
  pyyamlBoolTag,
  intYaml11Tag,
  floatYaml11Tag,
  timestampTag,
  mergeTag,
])

/**
 * Parses one YAML document like PyYAML's safe_load (duplicate keys: the last wins, as in PyYAML).
 * Throws a one-line ConfigError naming `source`, line and column.
 */
export function loadYaml(text: string, source: string): unknown {
  if (text.split(/\r?\n/).every((line) => /^\s*(#.*)?$/.test(line))) {
    return null // PyYAML: a document with no content is None
  }
  try {
    return load(text, {schema: PYYAML_SAFE_SCHEMA, json: true, filename: source})
  } catch (error) {
    if (error instanceof YAMLException) {
      const reason = error.reason ?? error.message.split('\n')[0]
      const mark = error.mark
      const where = mark ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : ''
      throw new ConfigError(`${source}: invalid YAML${where}: ${reason}`, 'DLEC_CONFIG_YAML')
    }
    throw error
  }
}
