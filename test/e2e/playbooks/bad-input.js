// Plain JavaScript, so no compiler stands between a typo and the runner: FB_CASE picks the mistake.
import { definePlaybook } from 'fleetbook';
import { copyFile, cronDaily, ensureDir, templateFile } from 'fleetbook/tasks';

const mistakes = {
  unknownParam: () => ensureDir({ path: '/srv/fb-bad', mdoe: '0755' }),
  wrongType: () => ensureDir({ path: '/srv/fb-bad', mode: 755 }),
  undefinedVar: () => templateFile({ src: 'undefined-var.ejs', dest: '/etc/fb-bad.conf' }),
  dottedCron: () => cronDaily({ name: 'cleanup.py', script: '#!/bin/sh\ntrue\n' }),
  none: () => ensureDir({ path: '/srv/fb-bad' }),
};

export default definePlaybook({
  name: 'bad input',
  hosts: 'all',
  // The first task is fine: the run must stop before it touches any host.
  tasks: () => [
    copyFile({ content: 'should never be written\n', dest: '/etc/fb-canary' }),
    mistakes[process.env.FB_CASE ?? 'none'](),
  ],
});
