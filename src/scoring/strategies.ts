import {UsageError} from '../errors.js'

/**
 * The expansion strategies dlec compares, by name. The placement functions live in src/curve/;
 * this is the one list the CLI, the README and the curve share.
 */
export const STRATEGIES = {
  greedy: 'add one candidate block at a time, keeping the one with the lowest measured KL (RYS/SLEB-style, measured)',
  beam: 'like greedy but keeps the best --beam W expansions at each size (measured)',
  curve: 'distribute single-layer copies along the middle of the depth in proportion to the score curve (1 / Block Influence)',
  'dlec-original': "the original DLEC rule's flagged layers in chunks of 4, each chunk's last layer duplicated (half-open ranges fixed)",
  identity: 'LLaMA-Pro copies with zeroed output projections, spread evenly: KL 0 by construction, for models fine-tuned afterwards',
} as const satisfies Record<string, string>

export type StrategyName = keyof typeof STRATEGIES

export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[]

/** Strategies whose choice is made by measuring candidates (and that therefore cost evaluations). */
export function isSearchStrategy(name: StrategyName): name is 'greedy' | 'beam' {
  return name === 'greedy' || name === 'beam'
}

export function parseStrategies(text: string): StrategyName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  for (const n of names) {
    if (!(n in STRATEGIES)) {
      throw new UsageError(`unknown strategy "${n}" (known: ${STRATEGY_NAMES.join(', ')})`)
    }
  }
  if (names.length === 0) {
    throw new UsageError('--strategy needs at least one strategy name')
  }
  return [...new Set(names)] as StrategyName[]
}
