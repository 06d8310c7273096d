#!/usr/bin/env node
// The standalone `dlec` command. It loads the same commands as the plugin, but with ids without the
// `dlec` topic (so `dlec config layers`, not `dlec dlec config layers`): see bin/standalone/.
import {execute} from '@oclif/core'

await execute({dir: new URL('./standalone/package.json', import.meta.url).href})
