// nginx's site on the address FB_LISTEN, reloaded when it changes.
import { definePlaybook } from 'fleetbook';
import { copyFile, serviceRestart } from 'fleetbook/tasks';

export default definePlaybook({
  name: 'reload',
  hosts: 'all',
  tasks: [
    copyFile(
      {
        content: `server {\n  listen ${process.env.FB_LISTEN ?? '127.0.0.1'}:80;\n  location / { return 200 "fleetbook\\n"; }\n}\n`,
        dest: '/etc/nginx/conf.d/fleetbook.conf',
      },
      { notify: ['reload nginx'] },
    ),
  ],
  handlers: [serviceRestart({ name: 'nginx', action: 'reload' }, { name: 'reload nginx' })],
});
