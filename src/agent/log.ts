// The agent's log: one line per event. JSON lines (time, level, msg, then fields) when stdout is
// not a terminal (journald, kubectl logs, a collector); "time level message key=value" otherwise.
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export type Fields = Record<string, unknown>;

export interface Logger {
  log(level: Level, msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

/** A field value as it reads in a text line: bare when simple, JSON otherwise. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w./:@,+-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return JSON.stringify(v);
}

/** One line, without the newline. */
export function formatLine(format: LogFormat, time: Date, level: Level, msg: string, fields: Fields = {}): string {
  const defined = Object.entries(fields).filter(([, v]) => v !== undefined);
  if (format === 'json') {
    return JSON.stringify({ time: time.toISOString(), level, msg, ...Object.fromEntries(defined) }, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
  const extra = defined.map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
  return `${time.toISOString()} ${level.padEnd(5)} ${msg}${extra ? ' ' + extra : ''}`;
}

export function createLogger(format: LogFormat, write: (line: string) => void, now: () => Date = () => new Date()): Logger {
  const log = (level: Level, msg: string, fields?: Fields) => write(formatLine(format, now(), level, msg, fields) + '\n');
  return {
    log,
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}
