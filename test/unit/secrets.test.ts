import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateIdentityFile } from '../../src/secrets/identity.ts';
import { changeRecipients, listRecipients, migrate, rotate } from '../../src/secrets/manage.ts';
import { getSecret, listSecrets, loadSecrets, setSecret } from '../../src/secrets/store.ts';
import { editSecrets } from '../../src/secrets/edit.ts';

// Each test gets its own project, secrets directory and identities; an identity is chosen by
// pointing FLEETBOOK_AGE_IDENTITY at it, as a second person's machine would.
async function project(): Promise<{
  dir: string;
  secrets: string;
  identity: (who: string) => Promise<string>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'fb-secrets-project-'));
  await writeFile(join(dir, 'package.json'), '{}');
  process.chdir(dir);
  const secrets = join(dir, 'secrets');
  process.env['FLEETBOOK_SECRETS_DIR'] = secrets;
  delete process.env['FLEETBOOK_AGE_PASSPHRASE'];
  const keys = new Map<string, string>();
  return {
    dir,
    secrets,
    // Switches to `who`'s identity, made on first use; returns its public key.
    identity: async (who) => {
      process.env['FLEETBOOK_AGE_IDENTITY'] = join(dir, `${who}.key`);
      const known = keys.get(who);
      if (known !== undefined) return known;
      const { publicKey } = await generateIdentityFile();
      keys.set(who, publicKey);
      return publicKey;
    },
  };
}

const VALUE = 'pa55-CANARY-value/+=';

test('a secret is stored encrypted to its setter, names and all, and read back', async () => {
  const p = await project();
  const alice = await p.identity('alice');
  await setSecret('staging', 'db_password', `${VALUE}\n`);
  const file = await readFile(join(p.secrets, 'staging.age'), 'utf8');
  assert.match(file, /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
  for (const clear of [VALUE, 'db_password', Buffer.from(VALUE).toString('base64').slice(0, 12)])
    assert.ok(!file.includes(clear), `${clear} is in the encrypted file`);
  assert.deepEqual(
    (await listRecipients('staging')).map((r) => r.key),
    [alice],
  );
  assert.equal(await getSecret('staging', 'db_password'), VALUE);
  assert.deepEqual(await listSecrets('staging'), ['db_password']);
  assert.deepEqual(await readdir(p.secrets), ['staging.age', 'staging.recipients']);
});

test('another identity is refused with the environment and its recipients named, until added', async () => {
  const p = await project();
  const alice = await p.identity('alice');
  await setSecret('production', 'db_password', VALUE);
  const bob = await p.identity('bob');
  await assert.rejects(getSecret('production', 'db_password'), (err: Error) => {
    assert.match(err.message, /cannot read the secrets of environment "production"/);
    assert.ok(err.message.includes(`tried ${bob}`), err.message);
    assert.ok(err.message.includes(`recipients:\n  ${alice}`), err.message);
    assert.ok(err.message.includes(`fleetbook secret recipients add production ${bob}`));
    return true;
  });
  await p.identity('alice');
  await changeRecipients('production', { add: { key: bob, note: 'bob' } });
  await p.identity('bob');
  assert.equal(await getSecret('production', 'db_password'), VALUE);
  // Removing bob re-encrypts with a new file key: his identity opens nothing from then on.
  await changeRecipients('production', { remove: bob });
  await assert.rejects(getSecret('production', 'db_password'), /cannot read the secrets/);
  await p.identity('alice');
  assert.equal(await getSecret('production', 'db_password'), VALUE);
});

test('recipients: a mistyped key and the last recipient are refused, the file unchanged', async () => {
  const p = await project();
  const alice = await p.identity('alice');
  await setSecret('staging', 'db_password', VALUE);
  const before = await readFile(join(p.secrets, 'staging.age'), 'utf8');
  await assert.rejects(
    changeRecipients('staging', { add: { key: 'age1notakey', note: '' } }),
    /"age1notakey" is not an age public key/,
  );
  await assert.rejects(
    changeRecipients('staging', { remove: alice }),
    /the last recipient of "staging": nobody could read its secrets/,
  );
  assert.equal(await readFile(join(p.secrets, 'staging.age'), 'utf8'), before);
  await assert.rejects(rotate('nowhere'), /environment "nowhere" has no secrets to re-encrypt/);
  // rotate: the same values under a new file key
  await rotate('staging');
  assert.notEqual(await readFile(join(p.secrets, 'staging.age'), 'utf8'), before);
  assert.equal(await getSecret('staging', 'db_password'), VALUE);
});

test('without an identity: a clear error saying how to make one, naming the environment', async () => {
  const p = await project();
  process.env['FLEETBOOK_AGE_IDENTITY'] = join(p.dir, 'nobody.key');
  await assert.rejects(
    setSecret('staging', 'db_password', VALUE),
    /environment "staging" has no recipients to encrypt its secrets to, and no age identity at .*nobody\.key: create one with `fleetbook secret keygen`/,
  );
  await p.identity('alice');
  await setSecret('staging', 'db_password', VALUE);
  process.env['FLEETBOOK_AGE_IDENTITY'] = join(p.dir, 'nobody.key');
  await assert.rejects(
    loadSecrets('staging', { db_password: { operator: { description: 'db' } } }),
    /cannot read the secrets of environment "staging": no age identity .*Its recipients:\n {2}age1/s,
  );
  // --syntax-check and the listings need no value: placeholders stand in, and it is said why.
  const checked = await loadSecrets(
    'staging',
    { db_password: { operator: { description: 'db' } } },
    { store: false, placeholders: true },
  );
  assert.equal(checked.values.db_password, 'unset-secret-db_password');
  assert.match(checked.unreadable ?? '', /no age identity/);
});

test('keygen never replaces an identity, and an identity others can read is refused', async () => {
  const p = await project();
  await p.identity('alice');
  await assert.rejects(generateIdentityFile(), /already exists .* never replaces one/);
  await chmod(join(p.dir, 'alice.key'), 0o644);
  await assert.rejects(
    setSecret('staging', 'x_password', VALUE),
    /readable by others; run: chmod 600/,
  );
});

test('an environment without recipients is encrypted with FLEETBOOK_AGE_PASSPHRASE', async () => {
  const p = await project();
  process.env['FLEETBOOK_AGE_IDENTITY'] = join(p.dir, 'nobody.key');
  process.env['FLEETBOOK_AGE_PASSPHRASE'] = 'correct horse battery staple';
  await setSecret('ci', 'token_value', VALUE);
  assert.deepEqual(await listRecipients('ci'), []);
  assert.equal(await getSecret('ci', 'token_value'), VALUE);
  process.env['FLEETBOOK_AGE_PASSPHRASE'] = 'wrong horse';
  await assert.rejects(
    getSecret('ci', 'token_value'),
    /environment "ci" .*tried the passphrase in FLEETBOOK_AGE_PASSPHRASE/,
  );
});

test('the plain JSON of earlier versions: a run refuses it, migrate encrypts it and deletes it', async () => {
  const p = await project();
  await p.identity('alice');
  const legacy = join(p.dir, '.fleetbook', 'secrets');
  await mkdir(legacy, { recursive: true });
  await writeFile(
    join(legacy, 'staging.json'),
    JSON.stringify({ db_password: VALUE, key: 'k'.repeat(40) }),
    { mode: 0o600 },
  );
  const specs = { db_password: { operator: { description: 'db' } } } as const;
  await assert.rejects(
    loadSecrets('staging', specs),
    /keeps its secrets in clear in \.fleetbook\/secrets\/staging\.json: encrypt them with `fleetbook secret migrate staging`/,
  );
  const r = await migrate('staging');
  assert.equal(r.count, 2);
  await assert.rejects(stat(join(legacy, 'staging.json')), /ENOENT/);
  assert.equal((await loadSecrets('staging', specs)).values.db_password, VALUE);
  await assert.rejects(migrate('staging'), /already has secrets\/staging\.age/);
});

test('edit: the editor gets the values as JSON in memory; what it saves is checked, then encrypted', async () => {
  const p = await project();
  await p.identity('alice');
  await setSecret('staging', 'db_password', VALUE);
  // The "editor" records where its file was, then changes the value.
  const seen = join(p.dir, 'seen');
  process.env['EDITOR'] =
    `f() { echo "$1" > ${seen}; stat -c %a "$1" >> ${seen}; sed -i 's/pa55-CANARY/new-CANARY/' "$1"; }; f`;
  delete process.env['VISUAL'];
  assert.equal((await editSecrets('staging')).changed, true);
  assert.equal(await getSecret('staging', 'db_password'), 'new-CANARY-value/+=');
  const [path = '', mode] = (await readFile(seen, 'utf8')).trim().split('\n');
  assert.match(path, /^(\/dev\/shm|\/run\/user\/\d+)\/fleetbook-/);
  assert.equal(mode, '600');
  await assert.rejects(stat(path), /ENOENT/, 'the plaintext file is removed');
  // A value too short to be masked, or broken JSON: refused, the stored values kept.
  process.env['EDITOR'] = `sed -i 's/new-CANARY-value[^"]*/short/'`;
  await assert.rejects(editSecrets('staging'), /secret db_password: at least 8 characters/);
  // The error says where, and never quotes the text it could not parse: it holds the values.
  process.env['EDITOR'] = `sed -i 's/"db_password"/db_password/'`;
  await assert.rejects(editSecrets('staging'), (err: Error) => {
    assert.match(
      err.message,
      /^the edited secrets are not valid JSON \(line 2\): nothing changed$/,
    );
    return true;
  });
  assert.equal(await getSecret('staging', 'db_password'), 'new-CANARY-value/+=');
});
