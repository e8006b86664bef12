import { ConfigError } from '../core/errors.ts';
import type { Inventory, ResolvedHost } from './load.ts';

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** Hosts named by one pattern: "all", a group, a host, or a glob over host and group names. */
function matchOne(inv: Inventory, pattern: string): Set<string> {
  if (pattern === 'all' || pattern === '*') return new Set(inv.hosts.map((h) => h.name));
  const out = new Set<string>();
  const re = globToRegExp(pattern);
  for (const [group, members] of inv.groups)
    if (re.test(group)) for (const m of members) out.add(m);
  for (const h of inv.hosts) if (re.test(h.name)) out.add(h.name);
  return out;
}

/**
 * Ansible-style patterns, comma separated: `web,db` (union), `!lab3` (exclude), `&staging` (intersect).
 * A plain name that matches nothing is an error: a typo in --limit must not silently run nowhere.
 */
export function selectHosts(inv: Inventory, patterns: string, what: string): Set<string> {
  const parts = patterns
    .split(/[,:]/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  // A name that matches nothing is a typo, in an exclusion or intersection too: `!lab42` must not
  // silently run everywhere. Only globs may match nothing.
  const named = (p: string): Set<string> => {
    const hit = matchOne(inv, p);
    if (hit.size === 0 && !/[*?]/.test(p))
      throw new ConfigError(`${what} "${p}" matches no host or group in the inventory`, {
        file: inv.file,
      });
    return hit;
  };
  const positive = parts.filter((p) => !p.startsWith('!') && !p.startsWith('&'));
  const selected = new Set<string>();
  for (const p of positive) for (const h of named(p)) selected.add(h);
  if (positive.length === 0) for (const h of inv.hosts) selected.add(h.name);
  for (const p of parts.filter((x) => x.startsWith('&'))) {
    const keep = named(p.slice(1));
    for (const h of [...selected]) if (!keep.has(h)) selected.delete(h);
  }
  for (const p of parts.filter((x) => x.startsWith('!')))
    for (const h of named(p.slice(1))) selected.delete(h);
  return selected;
}

/** The playbook's target hosts, narrowed by --limit, in inventory order. */
export function targetHosts(
  inv: Inventory,
  playbookHosts: readonly string[],
  limit: string | undefined,
): ResolvedHost[] {
  const play = selectHosts(inv, playbookHosts.join(','), "the playbook's hosts pattern");
  const lim = limit === undefined ? undefined : selectHosts(inv, limit, '--limit');
  return inv.hosts.filter((h) => play.has(h.name) && (lim === undefined || lim.has(h.name)));
}
