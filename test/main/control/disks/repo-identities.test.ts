import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IDENTITIES_FILE, RepoIdentities } from '../../../../main/control/disks/repo-identities.js';
import { tempDir } from '../../../helpers/temp-dir.js';

const now = new Date('2026-12-01T10:00:00Z');

/** A repository's identity as restic writes it: a config and key files named by their SHA-256 (contents stand-ins: the app never reads inside). */
function writeIdentity(root: string, repo: string, keyCount = 1, config = randomBytes(155)) {
  mkdirSync(join(root, repo, 'keys'), { recursive: true });
  writeFileSync(join(root, repo, 'config'), config);
  const keys = Array.from({ length: keyCount }, () => {
    const content = Buffer.from(JSON.stringify({ kdf: 'scrypt', salt: randomBytes(16).toString('base64'), data: randomBytes(200).toString('base64') }));
    const id = createHash('sha256').update(content).digest('hex');
    writeFileSync(join(root, repo, 'keys', id), content);
    return id;
  });
  return { config, keys };
}

function store() {
  const configDir = tempDir('rts-config-');
  const notices: string[] = [];
  return { identities: new RepoIdentities(join(configDir, IDENTITIES_FILE), (message) => notices.push(message)), file: join(configDir, IDENTITIES_FILE), notices };
}

describe('the copy of each repository’s config and keys', () => {
  it('is kept 0600 and lays the repository out on a disk that lacks it: the same config and keys, restic’s empty folders, nothing else', async () => {
    const { identities, file } = store();
    const home = tempDir('rts-home-');
    const { config, keys } = writeIdentity(home, 'anna', 2);
    writeFileSync(join(home, 'anna', 'keys', 'f'.repeat(64)), 'not named by its hash');
    await identities.remember(home, 'anna', now);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const away = tempDir('rts-away-');
    expect(await identities.layOut(away, ['anna', 'bob'])).toEqual({ laidOut: ['anna'], keysAdded: [], failed: [] });
    expect(readFileSync(join(away, 'anna', 'config'))).toEqual(config);
    expect(readdirSync(join(away, 'anna', 'keys')).sort()).toEqual([...keys].sort());
    expect(readdirSync(join(away, 'anna')).sort()).toEqual(['config', 'data', 'index', 'keys', 'locks', 'snapshots']);
    expect(readdirSync(join(away, 'anna', 'data'))).toHaveLength(256);
    expect(statSync(join(away, 'anna', 'config')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(away, 'bob'))).toBe(false);
    // Laid out once: a second look changes nothing.
    expect(await identities.layOut(away, ['anna'])).toEqual({ laidOut: [], keysAdded: [], failed: [] });
  });

  it('a key added on one disk reaches the other; a repository made anew elsewhere (another config) is left alone', async () => {
    const { identities } = store();
    const home = tempDir('rts-home-');
    writeIdentity(home, 'anna', 1);
    await identities.remember(home, 'anna', now);
    const away = tempDir('rts-away-');
    await identities.layOut(away, ['anna']);
    const added = writeIdentity(home, 'anna-extra', 1).keys[0] as string;
    writeFileSync(join(home, 'anna', 'keys', added), readFileSync(join(home, 'anna-extra', 'keys', added)));
    await identities.remember(home, 'anna', now);
    expect(await identities.layOut(away, ['anna'])).toEqual({ laidOut: [], keysAdded: ['anna'], failed: [] });
    expect(readdirSync(join(away, 'anna', 'keys'))).toContain(added);

    const other = tempDir('rts-other-');
    const own = writeIdentity(other, 'anna', 1);
    expect(await identities.layOut(other, ['anna'])).toEqual({ laidOut: [], keysAdded: [], failed: [] });
    expect(readdirSync(join(other, 'anna', 'keys'))).toEqual(own.keys);
  });

  it('never reads or writes through a link on the disk, leaves a folder holding files but no config alone, and copies nothing too big to be a key', async () => {
    const { identities } = store();
    const home = tempDir('rts-home-');
    writeIdentity(home, 'anna', 1);
    await identities.remember(home, 'anna', now);

    const elsewhere = tempDir('rts-elsewhere-');
    const linked = tempDir('rts-linked-');
    symlinkSync(elsewhere, join(linked, 'anna'));
    const refused = await identities.layOut(linked, ['anna']);
    expect(refused.failed.map((failure) => failure.message)).toEqual([`${join(linked, 'anna')} is a symbolic link; the server does not follow links out of the data folder`]);
    expect(readdirSync(elsewhere)).toEqual([]);

    const started = tempDir('rts-started-');
    mkdirSync(join(started, 'anna', 'keys'), { recursive: true });
    writeFileSync(join(started, 'anna', 'keys', 'a'.repeat(64)), 'someone else’s start');
    expect((await identities.layOut(started, ['anna'])).failed).toEqual([{ repo: 'anna', message: `its folder ${join(started, 'anna')} holds files but no restic config` }]);
    expect(existsSync(join(started, 'anna', 'config'))).toBe(false);

    writeIdentity(elsewhere, 'bob', 1);
    const outside = tempDir('rts-outside-');
    symlinkSync(join(elsewhere, 'bob'), join(outside, 'bob'));
    await expect(identities.remember(outside, 'bob', now)).rejects.toThrow('is a symbolic link');
    writeIdentity(home, 'carl', 1, randomBytes(64 * 1024));
    await expect(identities.remember(home, 'carl', now)).rejects.toThrow('is too big for a restic config or key');
    expect(await identities.has('bob')).toBe(false);
    expect(await identities.has('carl')).toBe(false);
  });

  it('a damaged copy is moved aside with a notice and made again', async () => {
    const { identities, file, notices } = store();
    writeFileSync(file, '{"version":1,"repos":{"anna":{"config":5}}}');
    expect(await identities.has('anna')).toBe(false);
    expect(notices).toEqual([expect.stringMatching(/^The copy of the repositories’ keys was damaged \(.+\)\. It was kept as .+\.damaged-.+; it is made again from the disk in use\.$/)]);
  });
});
