import { MASK } from '../core/diff.ts';

/**
 * Last line of defence for secrets: every string the reporters write passes through here, and any
 * known secret value in it is replaced by the mask.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string): void {
    // Very short values would mask ordinary words; secrets are long by policy.
    if (value.length < 6) return;
    // Also the forms a secret takes inside other text: JSON/JS string escapes (journals, --json),
    // Python-style backslash escapes, and the base64 of the value by itself.
    const forms = [
      value,
      JSON.stringify(value).slice(1, -1),
      value.replace(/\\/g, '\\\\').replace(/'/g, "\\'"),
      Buffer.from(value).toString('base64').replace(/=+$/, ''),
    ];
    for (const f of forms) this.secrets.add(f);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }
}
