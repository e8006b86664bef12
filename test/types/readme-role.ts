// The README's examples, type-checked by `tsc` (test/unit/readme.test.ts keeps them identical).
// roles/motd/index.ts (templates/motd.ejs beside it)
import { defineRole, Type } from 'fleetbook';
import { command, templateFile } from 'fleetbook/tasks';

export const motd = defineRole({
  name: 'motd',
  dir: import.meta.url, // templates/ and files/ are found here, wherever the role is installed
  varsSchema: Type.Object({ team: Type.String(), dest: Type.String() }),
  defaults: { dest: '/etc/motd' },
  dependsOn: () => [], // roles that run first, e.g. [base({ ... })]
  tasks: (host, vars) => [
    templateFile(
      { src: 'motd.ejs', dest: vars.dest, vars: { team: vars.team } },
      { notify: ['stamp'] },
    ),
  ],
  handlers: (host, vars) => [
    command({ run: `date +%s > ${vars.dest}.stamp`, always: true }, { name: 'stamp' }),
  ],
  exports: ['stamp'], // the handlers tasks outside the role may notify, as "motd: stamp"
});
