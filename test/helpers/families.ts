/**
 * The supported model families, as the test setup generates one tiny random checkpoint each
 * (test/python/make_fixtures.py writes fixtures/generated/<family>): the one list the tests share.
 */
export const FAMILIES = ['llama', 'mistral', 'qwen2', 'qwen3', 'gemma', 'gemma2', 'phi', 'phi3', 'gpt2'] as const

/** Extra generated checkpoints of the llama family: bf16 weights, and sharded with an index. */
export const LLAMA_VARIANTS = ['llama-bf16', 'llama-sharded'] as const
