import {UsageError} from '../errors.js'
import {dlecOriginalPlacement} from './dlec-original-strategy.js'
import {identityPlacement} from './identity-strategy.js'
import type {Duplication} from './layer-plan.js'
import {scoreCurvePlacement, weightsFromBlockInfluence} from './score-curve-strategy.js'

/** What a placement strategy sees when it places k added layers. */
export interface PlacementContext {
  numLayers: number
  /** The candidate band [start, end) of --candidates. */
  band: Duplication
  /** Block Influence per layer (from a profile run, else measured on the curve's data). */
  blockInfluence: readonly number[]
  /** Layer labels the original DLEC rule flags (from a profile run with raw first-token activations). */
  dlecFlagged: readonly number[]
}

/**
 * An expansion strategy: either a measured search over candidate blocks (greedy, beam), or a
 * placement rule that puts k layers without measuring first (its result is then measured, except
 * identity copies, which are exact by construction).
 */
export type Strategy =
  | {kind: 'search'; description: string; beamWidth: (requested: number) => number}
  | {
      kind: 'placement'
      description: string
      measured: boolean
      place: (ctx: PlacementContext, k: number) => Duplication[]
      needs?: (ctx: PlacementContext) => string | undefined
      /** Soft copies: each placement is measured at every α of --alphas (the copies' output projections scaled by α) and the best α kept. */
      softCopies?: boolean
    }

/** The strategies dlec compares, by name: the one registry the CLI, the README, the curve and the planner share. */
export const STRATEGIES = {
  greedy: {
    kind: 'search',
    description: 'add one candidate block at a time, keeping the one with the lowest measured KL (RYS/SLEB-style, measured)',
    beamWidth: () => 1,
  },
  beam: {
    kind: 'search',
    description: 'like greedy but keeps the best --beam W expansions at each size (measured)',
    beamWidth: (requested) => requested,
  },
  curve: {
    kind: 'placement',
    description: 'distribute single-layer copies along the middle of the depth in proportion to the score curve (1 / Block Influence)',
    measured: true,
    place: (ctx, k) => scoreCurvePlacement({weights: weightsFromBlockInfluence(ctx.blockInfluence), k, band: ctx.band}),
  },
  'dlec-original': {
    kind: 'placement',
    description: "the original DLEC rule's flagged layers in chunks of 4, each chunk's last layer duplicated (half-open ranges fixed)",
    measured: true,
    place: (ctx, k) => dlecOriginalPlacement({flaggedLabels: ctx.dlecFlagged, numLayers: ctx.numLayers, k}),
    needs: (ctx) =>
      ctx.dlecFlagged.length > 0
        ? undefined
        : 'dlec-original needs the layers the original DLEC rule flags: profile first with raw first-token activations (`dlec profile MODEL --data FILE --raw first-token`) into the --db store',
  },
  identity: {
    kind: 'placement',
    description: 'LLaMA-Pro copies with zeroed output projections, spread evenly: KL 0 by construction, for models fine-tuned afterwards',
    measured: false,
    place: (ctx, k) => identityPlacement({numLayers: ctx.numLayers, k}),
  },
  soft: {
    kind: 'placement',
    description:
      "identity's copies with their output projections scaled by α, measured at each α of --alphas (0: identity copy, 1: plain copy), the best α by --objective kept (with kl, α = 0 wins by construction: choose by loss)",
    measured: true,
    softCopies: true,
    place: (ctx, k) => identityPlacement({numLayers: ctx.numLayers, k}),
  },
} as const satisfies Record<string, Strategy>

export type StrategyName = keyof typeof STRATEGIES

export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[]

/** The registry entry of a strategy, typed as the union (for code that handles every kind). */
export function strategyOf(name: StrategyName): Strategy {
  return STRATEGIES[name]
}

/** Strategies whose choice is made by measuring candidates (and that therefore cost evaluations). */
export function isSearchStrategy(name: StrategyName): boolean {
  return strategyOf(name).kind === 'search'
}

/** `  name: description` lines for command help. */
export function describeStrategies(): string {
  return STRATEGY_NAMES.map((name) => `  ${name}: ${STRATEGIES[name].description}`).join('\n')
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
