import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeObject } from '../helpers/http.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('the upload workers', () => {
  it('keep a process that waits for them alive, and no longer once it has its answers (the built module, in a process of its own)', { timeout: 30_000 }, () => {
    const folder = tempDir('rts-worker-');
    const small = makeObject();
    const large = makeObject(3 << 20);
    writeFileSync(join(folder, 'large'), large.data);
    const ran = spawnSync(process.execPath, ['test/fixtures/save-and-hash.mjs', join(folder, 'small'), small.data.toString('base64'), join(folder, 'large')], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(ran.error, 'the process did not end by itself').toBeUndefined();
    expect(ran.stderr).toBe('');
    expect(ran.stdout.trim()).toBe(`${small.id} ${large.id}`);
  });
});
