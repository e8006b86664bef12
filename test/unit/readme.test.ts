import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// The README's TypeScript examples must compile: test/types/readme-*.ts hold them (tsc checks
// those), and this test keeps the README and those files identical but for import paths.
const readme = readFileSync('README.md', 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');

for (const [file, marker] of [
  ['test/types/readme-site.ts', '// playbooks/site.ts'],
  ['test/types/readme-ensureLine.ts', '// tasks/ensureLine.ts'],
  ['test/types/readme-role.ts', '// roles/motd/index.ts'],
  ['test/types/readme-results.ts', '// playbooks/app.ts'],
] as const) {
  test(`README example ${marker} is the code tsc checks in ${file}`, () => {
    const block = blocks.find((b) => b.startsWith(marker));
    assert.ok(block !== undefined, `README has no example starting with ${marker}`);
    const checked = readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .join('\n')
      .replaceAll("'../../src/index.ts'", "'../src/index.ts'")
      .replaceAll("'../../tasks/index.ts'", "'../tasks/index.ts'");
    assert.equal(checked, block);
  });
}

test("the custom task `fleetbook init` writes is the README's example", async () => {
  const { scaffold } = await import('../../src/init/scaffold.ts');
  const task = scaffold('x', '0.0.0').files.find(([p]) => p === 'tasks/ensure-line.ts')?.[1];
  const block = blocks.find((b) => b.startsWith('// tasks/ensureLine.ts'));
  // Both start with comment lines of their own; the code after them is the same.
  const code = (text: string | undefined) => text?.slice(text.indexOf('import '));
  assert.ok(task !== undefined && block !== undefined);
  assert.equal(code(task), code(block));
});
