// Structured JSON logs, one line each, in the manner of Lambda Powertools' logger:
// level, message, service and context keys; CloudWatch and `jq` read them alike.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void;
  info(message: string, context?: Record<string, unknown>): void;
  warn(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
  child(context: Record<string, unknown>): Logger;
}

export function createLogger(
  service: string,
  level: LogLevel = (process.env.STRATUS_LOG_LEVEL as LogLevel | undefined) ?? 'info',
  base: Record<string, unknown> = {},
  write: (line: string) => void = (l) => process.stderr.write(l + '\n'),
): Logger {
  const log = (lvl: LogLevel, message: string, context?: Record<string, unknown>): void => {
    if (ORDER[lvl] < ORDER[level]) return;
    const entry: Record<string, unknown> = { level: lvl.toUpperCase(), message, service, timestamp: new Date().toISOString(), ...base, ...context };
    const err = context?.error;
    if (err instanceof Error) entry.error = { name: err.name, message: err.message, stack: err.stack };
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, c) => log('debug', m, c),
    info: (m, c) => log('info', m, c),
    warn: (m, c) => log('warn', m, c),
    error: (m, c) => log('error', m, c),
    child: (c) => createLogger(service, level, { ...base, ...c }, write),
  };
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
