// aptInstall's facts for `state: latest`: the version apt would install of each package (its
// candidate, from the host's package index), and whether an earlier task of this run changes that
// index, so check mode never plans from an index the run will have refreshed.
import { defineFact, sh } from 'fleetbook';

/** Each package's candidate from `apt-cache policy` (read-only, no lock); null: none, or not known. */
export function parseCandidates(stdout: string, names: readonly string[]): (string | null)[] {
  const found = new Map<string, string | null>();
  let pkg: string | null = null;
  for (const line of stdout.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head !== null) pkg = head[1] ?? null;
    const cand = /^\s+Candidate: (\S+)$/.exec(line);
    if (cand !== null && pkg !== null)
      found.set(pkg, cand[1] === '(none)' ? null : (cand[1] ?? null));
  }
  return names.map((n) => found.get(n) ?? null);
}

/** The version `apt-get install NAME` would install now. */
export const aptCandidate = defineFact<string, string | null>({
  kind: 'aptCandidate',
  script: (names) => sh`LC_ALL=C apt-cache policy -- ${names} 2>/dev/null`,
  parse: parseCandidates,
  key: (name) => name,
});

/**
 * What an earlier task of this run did to the package index: nothing on the live host (''); in
 * check mode, a change that refreshes it says so (`factEffect(aptIndexChange(null), 'why')`).
 */
export const aptIndexChange = defineFact<null, string>({
  kind: 'aptIndexChange',
  script: () => sh`:`,
  parse: () => [''],
  key: () => '',
});
