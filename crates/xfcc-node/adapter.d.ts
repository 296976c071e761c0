// Options shared by the Express, Fastify and Hono adapters.

/** One log record of an adapter (bounded; never certificate bytes). */
export interface LogRecord {
  level: 'info' | 'warn' | 'error'
  message: string
  fields: Record<string, string | number | boolean | null | undefined>
}

export interface AdapterOptions {
  /** Paths served without a check (the platform's health probe), matched exactly (the query aside). */
  exempt?: string[]
  /** Where records go (default: a line on stderr); `false` for none. */
  log?: ((record: LogRecord) => void) | false
  /** At most this many rejection records per reason per second (default `XFCC_LOG_RATE`, else 10; `null`: no bound). */
  logRate?: number | null
}
