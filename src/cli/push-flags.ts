import {Flags} from '@oclif/core'
import type {PushParams} from '../publish/push-model.js'
import {hubAccessFlags} from './flags.js'
import {hubTokenFromEnv} from './hub-env.js'

/** Flags of a push, shared by `dlec push` and `dlec expand --push`. */
export const pushFlags = {
  ...hubAccessFlags,
  private: Flags.boolean({description: 'Create the repo private (an existing repo keeps its visibility).'}),
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
