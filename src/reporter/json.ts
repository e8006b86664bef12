import type { RunEvent } from '../runner/events.ts';
import type { Redactor } from './redact.ts';

/** One JSON object per line, for tools (`--json`). */
export function jsonReporter(
  write: (line: string) => void,
  redactor: Redactor,
): (e: RunEvent) => void {
  return (e) => {
    write(`${redactor.redact(JSON.stringify({ time: new Date().toISOString(), ...e }))}\n`);
  };
}
