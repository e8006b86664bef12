import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/index.ts';
import { renderTemplate, templateData, templatePath } from '../../src/render/template.ts';
import { templatesRoot } from '../../src/core/project.ts';
import { hostView, templatesDir as fixtures } from './fixtures.ts';

process.env['FLEETBOOK_TEMPLATES'] = fixtures;
/** How the renderer names a fixture in messages (relative to the cwd when inside it). */
const shown = (name: string) => path.relative(process.cwd(), path.join(fixtures, name));

const host = hostView({
  environment: 'staging',
  groups: ['web'],
  vars: { domain: 'host.example', upstream: 'http://127.0.0.1:8000/?a=1&b=<2>', dbHost: 'db' },
});

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the render to fail');
}

test('templates root: $FLEETBOOK_TEMPLATES, else <cwd>/templates', () => {
  assert.equal(templatesRoot(), fixtures);
  const saved = process.env['FLEETBOOK_TEMPLATES'];
  delete process.env['FLEETBOOK_TEMPLATES'];
  try {
    assert.equal(templatesRoot(), path.join(process.cwd(), 'templates'));
  } finally {
    process.env['FLEETBOOK_TEMPLATES'] = saved;
  }
});

test('data: host vars, task vars over them, and host', () => {
  const data = templateData(host, { domain: 'task.example', extra: 1 });
  assert.equal(data['domain'], 'task.example');
  assert.equal(data['dbHost'], 'db');
  assert.equal(data['extra'], 1);
  assert.deepEqual(data['host'], {
    name: 'web1',
    address: '127.0.1.1',
    environment: 'staging',
    groups: ['web'],
  });
});

test('renders plain names with no HTML escaping', async () => {
  const out = await renderTemplate(
    'site.conf.ejs',
    templateData(host, { relay: 'smtp.example:587' }),
  );
  assert.equal(
    out,
    '# managed by fleetbook for web1 (staging)\nserver_name host.example;\nupstream http://127.0.0.1:8000/?a=1&b=<2>;\nrelay smtp.example:587;\n',
  );
  // An optional variable tested with typeof may be left out.
  const without = await renderTemplate('site.conf.ejs', templateData(host));
  assert.doesNotMatch(without, /relay/);
});

test('an undefined variable names the template file and line', async () => {
  const err = await configError(
    renderTemplate('undefined-var.ejs', templateData({ ...host, vars: {} })),
  );
  assert.equal(err.message, `${shown('undefined-var.ejs')} line 3: "domain" is not defined`);
});

test('an undefined variable in an include names the include and where it was included', async () => {
  const err = await configError(renderTemplate('outer.ejs', templateData(host)));
  assert.equal(
    err.message,
    `${shown('partial.ejs')} line 2, included from ${shown('outer.ejs')} line 2: "missing" is not defined`,
  );
});

test('printing undefined or null is an error, not an empty string', async () => {
  const undef = await configError(
    renderTemplate('undefined-var.ejs', templateData(host, { domain: undefined })),
  );
  assert.equal(undef.message, `${shown('undefined-var.ejs')} line 3: <%= %> printed undefined`);
  const nul = await configError(
    renderTemplate('null-value.ejs', templateData(host, { maybe: null })),
  );
  assert.equal(nul.message, `${shown('null-value.ejs')} line 2: <%= %> printed null`);
  const obj = await configError(
    renderTemplate('null-value.ejs', templateData(host, { maybe: { a: 1 } })),
  );
  assert.match(obj.message, /line 2: <%= %> printed an object/);
  assert.equal(
    await renderTemplate('null-value.ejs', templateData(host, { maybe: [1, 2] })),
    'first line\nvalue = 1,2\n',
  );
});

test('names that are not identifiers are reachable through locals', async () => {
  assert.equal(
    await renderTemplate('locals.ejs', templateData(host, { 'app-name': 'shop' })),
    'shop no-missing\n',
  );
});

test('a missing template, a syntax error and a path outside the root are ConfigErrors', async () => {
  assert.equal(
    (await configError(renderTemplate('nope.ejs', {}))).message,
    `template ${shown('nope.ejs')} does not exist`,
  );
  assert.match(
    (await configError(renderTemplate('bad-syntax.ejs', {}))).message,
    // The template's own line, not a token of the JavaScript ejs generated from it.
    new RegExp(
      `^${shown('bad-syntax.ejs')} line 1: cannot compile template: .*\\(line 1: <% if \\(x \\{ %>\\)$`,
    ),
  );
  assert.match(
    (await configError(renderTemplate('bad-syntax-late.ejs', { x: 1, y: 2 }))).message,
    new RegExp(
      `^${shown('bad-syntax-late.ejs')} line 3: cannot compile template: .*\\(line 3: <% if \\(y \\{ %>\\)$`,
    ),
  );
  assert.throws(
    () => templatePath('../secret.txt'),
    /src: "..\/secret.txt" is outside the templates directory/,
  );
  assert.throws(() => templatePath('/etc/passwd'), /must be a path relative to/);
});

test('each template is read and compiled once per process', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-render-'));
  const saved = process.env['FLEETBOOK_TEMPLATES'];
  process.env['FLEETBOOK_TEMPLATES'] = dir;
  try {
    writeFileSync(path.join(dir, 't.ejs'), 'one <%= x %>\n');
    assert.equal(await renderTemplate('t.ejs', { x: 1 }), 'one 1\n');
    writeFileSync(path.join(dir, 't.ejs'), 'two <%= x %>\n');
    assert.equal(await renderTemplate('t.ejs', { x: 2 }), 'one 2\n');
  } finally {
    process.env['FLEETBOOK_TEMPLATES'] = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
