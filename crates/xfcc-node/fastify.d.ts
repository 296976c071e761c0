import type { FastifyPluginCallback } from 'fastify'
import type { ClientCert, Policy, Rejection } from './index'
import type { AdapterOptions } from './adapter'

declare module 'fastify' {
  interface FastifyRequest {
    /** The client the xfcc plugin verified (`null` on an exempt path, or in accept/report mode without one). */
    clientCert: ClientCert | null
    /** Report mode's would-be refusal. */
    xfccRejection: Rejection | null
  }
}

/** The Fastify plugin: verifies every request of the instance (WebSocket routes too). */
declare const xfcc: FastifyPluginCallback<xfcc.XfccFastifyOptions>
declare namespace xfcc {
  interface XfccFastifyOptions extends AdapterOptions {
    policy: Policy
  }
}
export = xfcc
