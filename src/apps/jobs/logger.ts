// Structured log lines for jobs and the worker. `json`: one JSON object per line with Cloud Logging's
// `severity` and `message` (also what Kubernetes log collectors parse); `text`: one readable line each.
// Every message is redacted before it is written: no token, code or secret reaches a log. And made one printable
// line (text/terminal-safe.ts): a message quoting AlarmBox or a driver could otherwise forge a log line (CR, LF,
// U+2028, which JSON.stringify leaves raw) or drive the terminal of whoever reads the log.

import { ConfigError } from '../../config/errors.ts';
import { clipText } from '../../text/clip.ts';
import { redact } from '../../text/redact.ts';
import { terminalSafe } from '../../text/terminal-safe.ts';

/** Cloud Logging's LogSeverity names (the ones we use). */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';
export type LogFormat = 'json' | 'text';

export type LogValue = string | number | boolean | null | undefined | readonly string[];
export type LogFields = Readonly<Record<string, LogValue>>;

export interface JobLogger {
  log(severity: Severity, message: string, fields?: LogFields): void;
}

export function parseLogFormat(value: string, source = '--log-format'): LogFormat {
  const v = value.trim();
  if (v === 'json' || v === 'text') return v;
  throw new ConfigError(
    source,
    `${source} "${terminalSafe(clipText(v, 16))}" は使えません。json か text を指定してください (例: ${source} json)。`,
  );
}

/** Writes lines to `write` (default stdout, where Cloud Run and Kubernetes collect them). */
export function createJobLogger(
  format: LogFormat,
  write: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  now: () => Date = () => new Date(),
): JobLogger {
  return {
    log(severity, message, fields = {}) {
      const clean = safe(message);
      const defined = Object.entries(fields)
        .filter(([, v]) => v !== undefined)
        .map(([key, value]): [string, LogValue] => [safe(key), safeValue(value)]);
      if (format === 'json') {
        const entry: Record<string, unknown> = { severity, message: clean, time: now().toISOString() };
        for (const [key, value] of defined) entry[key] = value;
        write(JSON.stringify(entry));
        return;
      }
      const extras = defined
        .filter(([key]) => key !== 'event')
        .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join(',') : String(value)}`);
      write(
        `${now().toISOString()} ${severity.padEnd(7)} ${clean}${extras.length > 0 ? ` (${redact(extras.join(' '))})` : ''}`,
      );
    },
  };
}

function safe(text: string): string {
  return terminalSafe(redact(text));
}

function safeValue(value: LogValue): LogValue {
  if (typeof value === 'string') return safe(value);
  if (Array.isArray(value)) return value.map((item: string) => safe(item));
  return value;
}
