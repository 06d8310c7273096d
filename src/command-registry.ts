import type {Command} from '@oclif/core'
import ArchList from './commands/dlec/arch/list.js'
import ConfigLayers from './commands/dlec/config/layers.js'
import ConfigValidate from './commands/dlec/config/validate.js'
import Eval from './commands/dlec/eval.js'
import Expand from './commands/dlec/expand.js'
import Curve from './commands/dlec/curve.js'
import Generate from './commands/dlec/generate.js'
import Merge from './commands/dlec/merge.js'
import Plan from './commands/dlec/plan.js'
import Profile from './commands/dlec/profile.js'
import Push from './commands/dlec/push.js'
import Score from './commands/dlec/score.js'

/**
 * The one list of dlec's commands. The plugin (package.json oclif.commands) registers them under the
 * `dlec` topic so they never clash inside a host CLI (`host dlec plan`); the standalone bin
 * (bin/standalone) registers the same classes without that prefix (`dlec plan`).
 */
export const PLUGIN_COMMANDS: Record<string, Command.Class> = {
  'dlec:arch:list': ArchList,
  'dlec:config:layers': ConfigLayers,
  'dlec:config:validate': ConfigValidate,
  'dlec:eval': Eval,
  'dlec:expand': Expand,
  'dlec:curve': Curve,
  'dlec:generate': Generate,
  'dlec:merge': Merge,
  'dlec:plan': Plan,
  'dlec:profile': Profile,
  'dlec:push': Push,
  'dlec:score': Score,
}

export const STANDALONE_COMMANDS: Record<string, Command.Class> = Object.fromEntries(
  Object.entries(PLUGIN_COMMANDS).map(([id, command]) => [id.replace(/^dlec:/, ''), command]),
)
