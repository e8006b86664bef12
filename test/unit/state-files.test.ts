import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSecrets } from '../../src/secrets/store.ts';
import { owedHandlers, saveOwedHandlers } from '../../src/runner/pending.ts';
import '../support/age-identity.ts';

// Runs started at the same moment share the controller's state files: each read-modify-write
// must see the other's.

test('runs generating the same secret at once all get the one value that is stored', async () => {
  process.env.FLEETBOOK_SECRETS_DIR = mkdtempSync(join(tmpdir(), 'fb-secrets-'));
  const specs = { key: { generate: { length: 32 } } } as const;
  const got = await Promise.all(
    Array.from({ length: 6 }, () => loadSecrets('staging', specs, { store: true })),
  );
  const values = new Set(got.map((g) => g.values.key));
  assert.equal(values.size, 1, `${values.size} different values were handed out`);
  const again = await loadSecrets('staging', specs, { store: true });
  assert.equal(again.values.key, [...values][0]);
});

test('owed handlers of two playbooks saved at once are both kept', async () => {
  process.env.FLEETBOOK_STATE_DIR = mkdtempSync(join(tmpdir(), 'fb-state-'));
  await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      saveOwedHandlers(`p${i}.ts`, 'inv.yaml', { web1: [`restart ${i}`] }),
    ),
  );
  for (let i = 0; i < 8; i++)
    assert.deepEqual(await owedHandlers(`p${i}.ts`, 'inv.yaml'), { web1: [`restart ${i}`] });
});
