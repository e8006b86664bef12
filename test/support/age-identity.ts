// Imported for its effect: the tests' own age identity, made once per test process in a temp
// directory, so that no test reads or writes the developer's (~/.config/fleetbook). Child processes
// (the CLI) inherit it through the environment.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentityFile } from '../../src/secrets/identity.ts';

if (process.env['FLEETBOOK_AGE_IDENTITY'] === undefined) {
  process.env['FLEETBOOK_AGE_IDENTITY'] = join(
    mkdtempSync(join(tmpdir(), 'fb-age-')),
    'age-identity.txt',
  );
  await generateIdentityFile();
}
