// sysctl's fact: a kernel parameter's running value, read from /proc/sys in the task's one round
// trip and simulated in check mode after a change.
import { defineFact, joinScripts, sh } from 'fleetbook';
import { answerBlocks } from './fact-answers.ts';

export type SysctlLive =
  | { readonly state: 'absent' }
  /** A write-only parameter (vm.drop_caches): what it holds cannot be read. */
  | { readonly state: 'unreadable' }
  | {
      readonly state: 'present';
      /** Its words, one space between them (the kernel separates some with tabs). */
      readonly value: string;
      /** Not when /proc/sys is mounted read-only (most containers) or the parameter is read-only. */
      readonly writable: boolean;
    };

/**
 * The parameter's file under /proc/sys. As sysctl.d(5) reads a name: when its first separator is
 * a dot, dots separate and a slash stands for a dot in a component (`net.ipv4.conf.eth0/100.rp_filter`);
 * when it is a slash, slashes separate and dots are literal.
 */
export function procPath(name: string): string {
  const rel = /^[^./]*\//.test(name) ? name : name.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
  return `/proc/sys/${rel}`;
}

/** A value as the kernel prints it back: its words, one space between them. */
export const words = (value: string): string => value.trim().split(/\s+/).join(' ');

/** One answer after `@@`: `absent`, `unreadable`, or `w`/`r` (writable or not) and the value's line. */
export function parseLive(block: string): SysctlLive {
  const [head = '', value = ''] = block.split('\n');
  if (head === 'absent' || head === 'unreadable') return { state: head };
  if (head !== 'w' && head !== 'r') throw new Error(`sysctlValue: unexpected answer ${block}`);
  return { state: 'present', value: words(value), writable: head === 'w' };
}

/** The running value of kernel parameters, by name. */
export const sysctlValue = defineFact<string, SysctlLive>({
  kind: 'sysctlValue',
  script: (names) =>
    joinScripts(
      names.map(
        (n) => sh`echo @@; p=${procPath(n)}
if [ ! -e "$p" ]; then echo absent
elif [ ! -r "$p" ]; then echo unreadable
else if [ -w "$p" ]; then echo w; else echo r; fi; tr -s ' \\t\\n' '   ' < "$p"; echo; fi`,
      ),
    ),
  parse: (stdout, names) => answerBlocks(stdout, 'sysctlValue', names.length).map(parseLive),
  key: (name) => name,
});
