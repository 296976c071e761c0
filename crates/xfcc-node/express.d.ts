/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { ClientCert, Policy, Rejection } from './index'
import type { AdapterOptions } from './adapter'

declare module 'node:http' {
  interface IncomingMessage {
    /** The client the xfcc middleware verified (`null` on an exempt path, or in accept/report mode without one). */
    clientCert?: ClientCert | null
    /** Report mode's would-be refusal. */
    xfccRejection?: Rejection | null
  }
}

type Next = (err?: unknown) => void
type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void
interface Middleware {
  (req: IncomingMessage, res: ServerResponse, next: Next): void
  /** A guard for the server's 'upgrade' event with this middleware's options and log bound. */
  upgrade (handler: UpgradeHandler): UpgradeHandler
}

/** The Express (Connect) middleware: verifies every request, `req.clientCert`, refusals answered 403 `{"error": code}`. */
declare function xfcc (policy: Policy, options?: AdapterOptions): Middleware
declare namespace xfcc {
  /** A guard for the server's 'upgrade' event: verifies the handshake, then calls `handler`. */
  function upgrade (policy: Policy, handler: UpgradeHandler, options?: AdapterOptions): UpgradeHandler
  export { xfcc, upgrade }
}
export = xfcc
