import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SECRET_KEY_PLACEHOLDER } from '../../../../main/control/core/command-lines.js';
import { dispatch } from '../../../../main/control/core/dispatch.js';
import { copyLocationOf, RCLONE_CONFIG_FILE, writeS3Remote } from '../../../../main/control/offsite/offsite-targets.js';
import { backedUpLaptop, servingController } from '../../../helpers/client-computer.js';
import { runBash, waitForState } from '../../../helpers/controller.js';
import { RESTIC_PASSWORD, treeDigest } from '../../../helpers/restic.js';
import { S3Server } from '../../../helpers/s3.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

describe('the offsite copy to S3 cloud storage', () => {
  it('writes each service’s address, region and keys into rclone’s configuration, and tells restic the same place', async () => {
    const configDir = tempDir('rts-config-');
    const file = join(configDir, RCLONE_CONFIG_FILE);
    const keys = { accessKeyId: '004a1b2c3d', secretAccessKey: 'K004-secret/with+signs' };
    const cases = [
      [{ service: 'b2', region: 'us-west-004' }, 'https://s3.us-west-004.backblazeb2.com/family/copy', 'provider = Other'],
      [{ service: 'wasabi', region: 'eu-central-1' }, 'https://s3.eu-central-1.wasabisys.com/family/copy', 'provider = Wasabi'],
      [{ service: 'aws', region: 'eu-west-3' }, 'https://s3.eu-west-3.amazonaws.com/family/copy', 'provider = AWS'],
      [{ service: 'other', endpoint: 'http://nas.local:9000/' }, 'http://nas.local:9000/family/copy', 'provider = Other'],
    ] as const;
    for (const [where, url, provider] of cases) {
      const remote = await writeS3Remote(configDir, { ...where, bucket: 'family', folder: 'copy', ...keys });
      const written = readFileSync(file, 'utf8');
      expect(written).toContain(provider);
      expect(written).toContain('secret_access_key = K004-secret/with+signs');
      expect(written.match(/^\[/gm)).toHaveLength(1);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(await copyLocationOf(`${remote}:family/copy`, file)).toEqual({ kind: 's3', url, accessKeyId: keys.accessKeyId, region: 'region' in where ? where.region : null });
    }
  });

  it('refuses at the edge what rclone’s configuration or a URL could not hold', async () => {
    const configDir = tempDir('rts-config-');
    const bugs: unknown[] = [];
    const api = { setOffsiteS3: () => Promise.reject(new Error('must not run')) } as never;
    const good = { service: 'b2', region: 'us-west-004', bucket: 'family', accessKeyId: 'key-id', secretAccessKey: 'secret-key' };
    const refused = [
      { ...good, secretAccessKey: 'secret\n[other]\ntype = local' },
      { ...good, accessKeyId: 'has space' },
      { ...good, region: undefined },
      { ...good, endpoint: 'https://elsewhere.example' },
      { ...good, service: 'other', region: undefined, endpoint: 'https://user:pw@minio.example:9000' },
      { ...good, service: 'other', region: undefined, endpoint: 'https://minio.example:9000/path' },
      { ...good, service: 'other', region: undefined, endpoint: 'file:///etc' },
      { ...good, bucket: 'Family Photos' },
      { ...good, folder: '../other' },
      { ...good, folder: '/root' },
    ];
    for (const input of refused) expect(await dispatch(api, 'setOffsiteS3', input, (error) => bugs.push(error))).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(bugs).toEqual([]);
    expect(existsSync(join(configDir, RCLONE_CONFIG_FILE))).toBe(false);
  });
});

describe.runIf(hasTool('rclone') && hasTool('restic') && hasTool('openssl'))('the offsite copy to S3 (s3rver, a local stand-in for the cloud service)', () => {
  let s3: S3Server;
  beforeAll(async () => {
    s3 = await S3Server.start();
  });

  it('a wrong key is refused and the copy in use stays; the right one copies a computer’s backups, which restic restores from the bucket with the commands on its page', { timeout: 180_000 }, async () => {
    const { controller, configDir } = await servingController();
    const { anna, source, home } = await backedUpLaptop(controller);

    const folder = tempDir('rts-copy-');
    await controller.setOffsite({ remote: folder });
    const form = { service: 'other', endpoint: s3.endpoint, bucket: s3.bucket, folder: 'our-house', secretAccessKey: S3Server.secretAccessKey } as const;
    // The stand-in checks key IDs, not the signatures a wrong secret key would spoil.
    await expect(controller.setOffsiteS3({ ...form, accessKeyId: 'NOT-A-KEY-ID' })).rejects.toMatchObject({
      code: 'offsite-unusable',
      message: `The copy cannot go there: rclone could not write a test file there. The cloud storage at ${new URL(s3.endpoint).host} refused the keys: check the key ID and the secret key, and that the key may read and write this bucket.`,
    });
    expect((await controller.getState()).offsite.target?.remote).toBe(folder);
    expect(existsSync(join(configDir, RCLONE_CONFIG_FILE))).toBe(false);

    const set = await controller.setOffsiteS3({ ...form, accessKeyId: S3Server.accessKeyId });
    expect(set.offsite.target?.remote).toBe(`offsite-s3:${s3.bucket}/our-house`);
    await controller.copyOffsiteNow();
    const copied = await waitForState(controller, (state) => state.offsite.lastCopyAt !== null && state.offsite.running === null, 60_000);
    expect(copied.offsite.problem).toBeNull();

    const fromCopy = (await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', backupPaths: [source] })).fromCopy;
    expect(fromCopy?.steps.map((step) => step.command).slice(0, 2)).toEqual([
      `export RESTIC_REPOSITORY='s3:${s3.endpoint}/${s3.bucket}/our-house/${anna.username}'`,
      `export AWS_ACCESS_KEY_ID='${S3Server.accessKeyId}'\nexport AWS_SECRET_ACCESS_KEY='${SECRET_KEY_PLACEHOLDER}'`,
    ]);
    // Run as given, with the secret key pasted in and the stand-in's certificate trusted.
    const script = [`restic() { command restic --cacert ${s3.caFile} "$@"; }`, ...(fromCopy?.steps ?? []).map((step) => step.command.replace(SECRET_KEY_PLACEHOLDER, S3Server.secretAccessKey)), 'restic check --read-data'].join('\n');
    const read = await runBash(script, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).toContain('no errors were found');
    expect(treeDigest(join(home, 'restic-restore', source))).toEqual(treeDigest(source));
  });
});
