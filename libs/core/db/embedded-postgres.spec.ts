import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { unreachableFolder } from './embedded-postgres.js';

describe('unreachableFolder', () => {
  const root = mkdtempSync(join(tmpdir(), 'reach-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  // Ids of nobody in particular: neither owner nor group of anything made here.
  const stranger = { uid: 54_321, gids: [54_321] };

  it('names the first folder a user without rights cannot enter, with its mode', () => {
    const locked = join(root, 'locked');
    mkdirSync(join(locked, 'data'), { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(locked, 0o700);
    expect(unreachableFolder(join(locked, 'data', 'postgres'), stranger)).toEqual({
      path: locked,
      mode: '0700',
      owner: process.getuid!(),
    });
  });

  it('lets through folders open to others, to the group, or owned by the user', () => {
    const open = join(root, 'open');
    mkdirSync(join(open, 'data'), { recursive: true });
    chmodSync(open, 0o711);
    expect(unreachableFolder(join(open, 'data', 'postgres'), stranger)).toBeUndefined();
    chmodSync(open, 0o710);
    expect(unreachableFolder(join(open, 'data'), { uid: 54_321, gids: [process.getgid!()] })).toBeUndefined();
    expect(unreachableFolder(join(open, 'data'), stranger)?.path).toBe(open);
    expect(unreachableFolder(join(open, 'data'), { uid: process.getuid!(), gids: [] })).toBeUndefined();
  });
});
