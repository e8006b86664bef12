import { ConfigError } from '../core/errors.ts';

/** `--serial`: hosts per batch, as a count or a percentage of the selected hosts. */
export type Serial =
  { readonly kind: 'count'; readonly n: number } | { readonly kind: 'percent'; readonly p: number };

export function parseSerial(text: string): Serial {
  const m = /^(\d+)(%?)$/.exec(text.trim());
  const n = Number(m?.[1]);
  if (m === null || n < 1 || (m[2] === '%' && n > 100)) {
    throw new ConfigError(
      `--serial "${text}": expected a number of hosts (5) or a percentage from 1% to 100% (25%)`,
    );
  }
  return m[2] === '%' ? { kind: 'percent', p: n } : { kind: 'count', n };
}

/** Split hosts into batches; a percentage rounds up, so every batch has at least one host. */
export function batches<T>(hosts: readonly T[], serial: Serial | undefined): T[][] {
  if (hosts.length === 0) return [];
  const size =
    serial === undefined
      ? hosts.length
      : serial.kind === 'count'
        ? serial.n
        : Math.max(1, Math.ceil((hosts.length * serial.p) / 100));
  const out: T[][] = [];
  for (let i = 0; i < hosts.length; i += size) out.push(hosts.slice(i, i + size));
  return out;
}

/**
 * Whether a finished batch stops the rollout. With --max-fail-percent P: when the failed
 * (or unreachable) hosts are strictly more than P% of the batch. Without it: only when every
 * host of the batch failed, as Ansible does.
 */
export function batchStopsRollout(
  failed: number,
  size: number,
  maxFailPercent: number | undefined,
): boolean {
  if (size === 0) return false;
  if (maxFailPercent === undefined) return failed === size;
  return (failed * 100) / size > maxFailPercent;
}
