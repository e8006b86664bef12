import { MASK } from '../core/diff.ts';

/**
 * Last line of defence for secrets: every string the reporters write passes through here, and any
 * known secret value in it is replaced by the mask.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  add(value: string): void {
    // Very short values would mask ordinary words; secrets are long by policy.
    if (value.length >= 6) this.secrets.add(value);
  }

  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join(MASK);
    return out;
  }
}
