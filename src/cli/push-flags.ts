import {Flags} from '@oclif/core'
import type {PushParams} from '../publish/push-model.js'
import {hubTokenFromEnv} from './hub-env.js'

/** Flags of a push, shared by `dlec push` and `dlec expand --push`. */
export const pushFlags = {
  'hub-url': Flags.string({description: 'Hub endpoint [default: $HF_ENDPOINT or https://huggingface.co].'}),
  private: Flags.boolean({description: 'Create the repo private (an existing repo keeps its visibility).'}),
  timeout: Flags.integer({description: 'Seconds a Hub request may make no progress before it fails.', default: 30, min: 1}),
  token: Flags.string({description: 'Hub token [default: $HF_TOKEN, else the token file of `hf auth login`].'}),
}

/** The Hub access part of PushParams from those flags and the environment. */
export function pushAccessFromFlags(flags: {'hub-url'?: string; private: boolean; timeout: number; token?: string}): Pick<PushParams, 'accessToken' | 'hubUrl' | 'private' | 'timeoutMs'> {
  return {
    accessToken: hubTokenFromEnv(flags.token, process.env),
    hubUrl: flags['hub-url'] ?? process.env.HF_ENDPOINT,
    private: flags.private,
    timeoutMs: flags.timeout * 1000,
  }
}
