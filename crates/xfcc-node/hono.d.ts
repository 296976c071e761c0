import type { Context, MiddlewareHandler } from 'hono'
import type { ClientCert, Policy, Rejection } from './index'
import type { AdapterOptions } from './adapter'

/** The Hono middleware: verifies every request (WebSocket handshakes too). */
declare function xfcc (policy: Policy, options?: xfcc.XfccHonoOptions): MiddlewareHandler<{ Variables: xfcc.XfccVariables }>
declare namespace xfcc {
  export interface XfccHonoOptions extends AdapterOptions {
    /** The TCP peer where Hono runs without a Node request (Bun, Deno, Workers); under @hono/node-server the socket's is used. */
    peer?: (c: Context) => string | null | undefined
  }
  /** The variables the middleware sets (`c.get('clientCert')`). */
  export interface XfccVariables {
    clientCert: ClientCert | null
    xfccRejection: Rejection | null
  }
  export { xfcc }
}
export = xfcc
