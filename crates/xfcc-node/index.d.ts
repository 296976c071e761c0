// Types of the xfcc package (index.js): the Rust core's policy, verified
// client, refusals and verdict.

/// <reference types="node" />
import type { IncomingMessage } from 'node:http'
import type { ClientCert as NativeClientCert } from './binding'

/** A verified client: the certificate's identity, which rule allowed it, from which element. */
export type ClientCert = NativeClientCert
export const ClientCert: typeof import('./binding').ClientCert

/** A setting the library cannot honour; the message names it. */
export class ConfigError extends Error {
  readonly name: 'ConfigError'
  /** The stable code of its kind (`names_only_rule`, `value`, `nothing_set`, ...). */
  readonly code: string
  /** The setting at fault, or the environment variable. */
  readonly setting: string
  /** The `[[allow]]` rule it is in, if any. */
  readonly rule: string | null
}

/** A forwarded client certificate that does not authenticate the request. */
export class Rejection extends Error {
  readonly name: 'Rejection'
  /** The stable reason code (`missing`, `not_allowed`, `untrusted_peer`, ...). */
  readonly code: string
  readonly reason: string
  /** The precise detail code (`subject_cn`, `repeated_by`, ...). */
  readonly detail: string
  /** One bounded line: the certificate's values beside what did not hold; never certificate bytes. */
  readonly explanation: string | null
  /** The next step, when the request shows what it is. */
  readonly hint: string | null
  readonly element: number | null
  /** For `untrusted_peer`: the TCP peer. */
  readonly peer: string | null
  /** With `[[sources]]`: the proxy's source. */
  readonly source: string | null
  /** With `[[trusted_proxies]]`: the entry the connection's certificate matched. */
  readonly proxy: string | null
  /** Report mode: logged and counted, and the request goes on. */
  readonly wouldDeny: boolean
  /** The HTTP status the core refuses it with (403, or 500 for a wiring error). */
  readonly status: number
}

/** The core's verdict on one request. */
export interface Verdict {
  /** Serve it (`allow`; `report`: with the would-be refusal in `rejection`) or refuse it. */
  action: 'allow' | 'report' | 'refuse'
  clientCert?: ClientCert | null
  rejection?: Rejection | null
  /** The status to refuse with; absent when served. */
  status?: number | null
  /** The JSON body to refuse with (`{"error":"<code>"}`). */
  body?: string | null
  code?: string | null
}

/** A request's headers in any of the shapes Node and Fetch give them. */
export type HeaderSource =
  | string[]
  | Array<[string, string | Buffer]>
  | Headers
  | Record<string, string | string[] | undefined>

/** What `verifyRequest` and `decide` read: a Node request, a Fetch request, or headers alone. */
export type RequestLike = IncomingMessage | Request | HeaderSource

export interface PolicyWarning {
  code: string
  message: string
  fix: string
}

/** A validation policy (thread-safe, cheap to share). */
export class Policy {
  private constructor ()
  /** The policy the environment describes (the recipe's variables, every `XFCC_*`, or `XFCC_POLICY_FILE`). */
  static fromEnv (env?: Record<string, string | undefined>): Policy
  /** The policy of a TOML file; anchor and CRL paths are relative to it. */
  static fromToml (path: string): Policy
  /** The policy of TOML text; anchor and CRL paths are relative to `baseDir`. */
  static fromTomlString (text: string, baseDir?: string): Policy
  readonly mode: 'require' | 'accept' | 'report'
  /** Every header the policy may read (lower-case). */
  readonly headerNames: readonly string[]
  readonly hasTrustedPeers: boolean
  /** Whether the header is honoured only over connections presenting a `[[trusted_proxies]]` certificate. */
  readonly hasTrustedProxies: boolean
  isTrustedPeer (peer: string): boolean
  warnings (): PolicyWarning[]
  /** One header value (`null`: none) from `peer`: the client (`null` in accept mode without one), or throws a `Rejection`. */
  /**
   * `peerChain`: what the connection presented in TLS (DER, leaf first;
   * empty: none; `null`: unknown), for `trusted_proxies`.
   */
  verify (header: string | Buffer | null | undefined, options?: { peer?: string | null, peerChain?: Buffer[] | null }): ClientCert | null
  /** A request (its raw header lines, and the socket's peer unless given): the client, or throws a `Rejection`. */
  verifyRequest (request: RequestLike, peer?: string | null): ClientCert | null
  /** The core's verdict on a request: what the middleware translate. */
  decide (request: RequestLike, peer?: string | null): Verdict
}

/** The core's rejection-record limiter. */
export const LogLimiter: typeof import('./binding').LogLimiter
/** A refusal the middleware detect themselves (`peer_rewritten`): its status and body. */
export function wiringRefusal (code: string): { status: number, body: string } | null
