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
