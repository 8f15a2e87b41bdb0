import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUARANTINE_NAME, SCRUB_STATE_NAME } from '../../../server/scrub/scrub.js';
import { runCli } from '../../helpers/cli-process.js';
import { sha256 } from '../../helpers/http.js';
import { writeRepository } from '../../helpers/repository.js';
import { tempDir } from '../../helpers/temp-dir.js';

const LINK = 'a symbolic link: not followed out of the data folder';

/** A folder outside the data folder with a file named like a restic object whose contents do not match the name. */
function outsideWithForgery(): { folder: string; name: string; contents: string } {
  const folder = tempDir('rts-outside-');
  const name = sha256(Buffer.from('something else'));
  writeFileSync(join(folder, name), 'a private file, not a backup');
  return { folder, name, contents: 'a private file, not a backup' };
}

describe.skipIf(process.platform === 'win32')('the scrub never follows links out of the data folder', () => {
  it('an index/ that links outside: nothing there is read or moved in by --quarantine; the text and --json name it', async () => {
    const root = tempDir('rts-scrub-');
    const objects = writeRepository(root, 'anna', 3, 500);
    const away = outsideWithForgery();
    rmSync(join(root, 'anna', 'index'), { recursive: true });
    symlinkSync(away.folder, join(root, 'anna', 'index'));

    const text = await runCli(['scrub', '--path', root, '--quarantine']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`anna/index: not checked, ${LINK}.`);
    expect(text.stdout).toContain('Checked 3 objects');
    expect(readdirSync(away.folder)).toEqual([away.name]);
    expect(readFileSync(join(away.folder, away.name), 'utf8')).toBe(away.contents);
    expect(existsSync(join(root, QUARANTINE_NAME))).toBe(false);

    const json = await runCli(['scrub', '--path', root, '--repo', 'anna', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { objects: number; findings: unknown[]; skipped: unknown[] };
    expect(report.objects).toBe(objects.length);
    expect(report.findings).toEqual([]);
    expect(report.skipped).toEqual([{ path: 'anna/index', reason: LINK }]);
  });

  it('a quarantine folder planted as a link: refused before anything moves, the damaged object stays in the data folder', async () => {
    const root = tempDir('rts-scrub-');
    const [damaged] = writeRepository(root, 'anna', 2, 500);
    writeFileSync(damaged!.path, 'changed on the disk');
    const away = tempDir('rts-outside-');
    symlinkSync(away, join(root, QUARANTINE_NAME));

    const result = await runCli(['scrub', '--path', root, '--quarantine']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `error: the check stopped: ${join(root, QUARANTINE_NAME)} is a symbolic link; the check moves damaged files only within the data folder. Remove or move it, then run the check again.\n`,
    );
    expect(readdirSync(away, { recursive: true })).toEqual([]);
    expect(readFileSync(damaged!.path, 'utf8')).toBe('changed on the disk');
  });

  it('a link below the quarantine folder is refused just the same', async () => {
    const root = tempDir('rts-scrub-');
    const [damaged] = writeRepository(root, 'anna', 1, 500);
    writeFileSync(damaged!.path, 'changed on the disk');
    const away = tempDir('rts-outside-');
    mkdirSync(join(root, QUARANTINE_NAME));
    symlinkSync(away, join(root, QUARANTINE_NAME, 'anna'));

    const result = await runCli(['scrub', '--path', root, '--quarantine']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(root, QUARANTINE_NAME, 'anna')} is a symbolic link`);
    expect(readdirSync(away, { recursive: true })).toEqual([]);
    expect(existsSync(damaged!.path)).toBe(true);
  });

  it('links to repositories, data/XX folders and object files are named and not read; the rest is checked', async () => {
    const root = tempDir('rts-scrub-');
    const [object] = writeRepository(root, 'anna', 1, 500);
    const elsewhere = tempDir('rts-outside-');
    writeRepository(elsewhere, 'repo', 2, 500);
    const away = outsideWithForgery();
    symlinkSync(join(elsewhere, 'repo'), join(root, 'bob'));
    mkdirSync(join(root, 'carol'));
    symlinkSync(join(elsewhere, 'repo'), join(root, 'carol', 'laptop'));
    const prefix = object!.id.startsWith('ff') ? 'fe' : 'ff';
    symlinkSync(away.folder, join(root, 'anna', 'data', prefix));
    symlinkSync(join(away.folder, away.name), join(root, 'anna', 'snapshots', away.name));

    const result = await runCli(['scrub', '--path', root, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { objects: number; findings: unknown[]; skipped: { path: string; reason: string }[] };
    expect(report.objects).toBe(1);
    expect(report.findings).toEqual([]);
    expect(report.skipped.map((item) => item.path).sort()).toEqual(
      [`anna/data/${prefix}`, `anna/snapshots/${away.name}`, 'bob', 'carol/laptop'].sort(),
    );
    expect(readFileSync(object!.path).length).toBe(500);
  });

  it("the check's record planted as a link is refused, not read", async () => {
    const root = tempDir('rts-scrub-');
    writeRepository(root, 'anna', 1, 500);
    const away = tempDir('rts-outside-');
    writeFileSync(join(away, 'state.json'), JSON.stringify({ version: 1, current: null, last: null, open: [], settled: {} }));
    symlinkSync(join(away, 'state.json'), join(root, SCRUB_STATE_NAME));
    const result = await runCli(['scrub', '--path', root]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(root, SCRUB_STATE_NAME)} is a symbolic link; it is not followed out of the data folder`);
  });
});
