import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useColor } from '../../src/reporter/color.ts';

const cases: ReadonlyArray<
  [flag: boolean, env: Record<string, string>, tty: boolean, want: boolean]
> = [
  [true, {}, true, true],
  [true, {}, false, false],
  [false, {}, true, false],
  [true, { NO_COLOR: '1' }, true, false],
  [true, { NO_COLOR: '' }, true, true], // an empty NO_COLOR does not count (no-color.org)
  [true, { FORCE_COLOR: '1' }, false, true],
  [true, { FORCE_COLOR: '0' }, true, false],
  [true, { NO_COLOR: '1', FORCE_COLOR: '1' }, true, false],
  [false, { FORCE_COLOR: '1' }, true, false],
];

for (const [flag, env, tty, want] of cases)
  test(`colour: --color=${String(flag)} ${JSON.stringify(env)} tty=${String(tty)} -> ${String(want)}`, () => {
    assert.equal(useColor(flag, env, tty), want);
  });
