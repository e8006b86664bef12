import { shq } from './shell.ts';

export const MASK = '********';

/** Shorter values would mask ordinary words; `fleetbook secret set` refuses them. */
export const MIN_SECRET_LENGTH = 8;

/**
 * The secrets of this run, known before any task is built, so that text is masked wherever it is
 * made (a title cut at 57 characters must not keep a secret's first half), not only where it is
 * printed. The reporters' Redactor masks the same list on the way out.
 */
const secrets = new Set<string>();
let forms: string[] = [];

/** base64 of `value` wherever it sits in a longer base64 text (`user:secret`), at each of the 3 alignments. */
function base64Cores(value: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const b64 = Buffer.concat([Buffer.alloc(offset), value]).toString('base64');
    // Drop the characters that also carry bits of the unknown bytes before and after.
    const start = [0, 2, 3][offset] ?? 0;
    const end = Math.floor((offset + value.length) / 3) * 4;
    const core = b64.slice(start, end);
    if (core.length >= MIN_SECRET_LENGTH)
      out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every form a secret takes in the text fleetbook produces or users commonly write. */
export function secretForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  return [
    value,
    json,
    // JSON inside JSON: a journal line or an event quoted again by --json.
    JSON.stringify(json).slice(1, -1),
    // Python and shell single-quoted strings.
    value.replace(/\\/g, '\\\\').replace(/'/g, "\\'"),
    shq(value),
    value.replace(/'/g, `'\\''`),
    // URLs and form posts.
    encodeURIComponent(value),
    encodeURIComponent(value).replace(/%20/g, '+'),
    ...base64Cores(Buffer.from(value, 'utf8')),
  ];
}

export function registerSecret(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  // Longest first, so a form that contains another is masked whole.
  forms = [...new Set([...forms, ...secretForms(value)])].sort((a, b) => b.length - a.length);
}

/** Replace every known secret, in any of its forms, by the mask. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const f of forms) if (out.includes(f)) out = out.split(f).join(MASK);
  return out;
}

/** Shorten text for display, masking first: a cut never leaves part of a secret behind. */
export function truncate(text: string, max: number): string {
  const masked = maskSecrets(text);
  return masked.length > max ? `${masked.slice(0, max - 3)}...` : masked;
}
