import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

const VERSION = '0.17.3';
const SCRIPT = 'scripts/bundle-restic.mjs';
const NAMES = ['linux_amd64', 'linux_arm64', 'darwin_amd64', 'darwin_arm64'];

/** A release folder as restic publishes it, with small stand-in programs (each says its platform) and their SHA256SUMS. */
function fakeRelease(): string {
  const folder = tempDir('rts-restic-release-');
  const files: string[] = [];
  for (const name of NAMES) {
    const program = join(folder, `restic_${VERSION}_${name}`);
    writeFileSync(program, `#!/bin/sh\necho restic ${VERSION} ${name}\n`);
    execFileSync('bzip2', [program]);
    files.push(`restic_${VERSION}_${name}.bz2`);
  }
  writeFileSync(join(folder, `restic_${VERSION}_windows_amd64.exe`), `MZ restic ${VERSION} windows_amd64`);
  execFileSync('zip', ['-q', '-j', join(folder, `restic_${VERSION}_windows_amd64.zip`), join(folder, `restic_${VERSION}_windows_amd64.exe`)]);
  files.push(`restic_${VERSION}_windows_amd64.zip`);
  const sum = (file: string) => createHash('sha256').update(readFileSync(join(folder, file))).digest('hex');
  writeFileSync(join(folder, 'SHA256SUMS'), `${[...files, `restic-${VERSION}.tar.gz`].map((file) => (file.endsWith('.tar.gz') ? `${'0'.repeat(64)}  ${file}` : `${sum(file)}  ${file}`)).join('\n')}\n`);
  return folder;
}

const run = (folder: string, output: string) => spawnSync(process.execPath, [SCRIPT, folder, output], { encoding: 'utf8' });

describe.runIf(hasTool('bzip2') && hasTool('unzip') && hasTool('zip'))('restic bundled with the app, checked against its published SHA256SUMS', () => {
  it('unpacks each platform’s program where electron-builder takes it', () => {
    const output = join(tempDir('rts-build-'), 'restic');
    const result = run(fakeRelease(), output);
    expect([result.status, result.stderr]).toEqual([0, '']);
    expect(result.stdout).toBe(`restic ${VERSION} checked against SHA256SUMS and unpacked for linux-x64, linux-arm64, mac-x64, mac-arm64, win-x64 in ${output}\n`);
    expect(execFileSync(join(output, 'linux-x64', 'restic'), { encoding: 'utf8' })).toBe(`restic ${VERSION} linux_amd64\n`);
    expect(readFileSync(join(output, 'mac-arm64', 'restic'), 'utf8')).toContain('darwin_arm64');
    expect(readFileSync(join(output, 'win-x64', 'restic.exe'), 'utf8')).toBe(`MZ restic ${VERSION} windows_amd64`);
    expect(statSync(join(output, 'linux-arm64', 'restic')).mode & 0o777).toBe(0o755);
  });

  it('refuses a file that does not match its hash, a missing file, and SHA256SUMS of another or no release, unpacking nothing', () => {
    const tampered = fakeRelease();
    const file = join(tampered, `restic_${VERSION}_darwin_amd64.bz2`);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
    writeFileSync(file, bytes);
    const output = join(tempDir('rts-build-'), 'restic');
    const refused = run(tampered, output);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^bundle-restic: restic_${VERSION}_darwin_amd64\\.bz2 does not match restic's published SHA-256 \\([0-9a-f]{64} instead of [0-9a-f]{64}\\): download it again\\n$`));
    expect(existsSync(output)).toBe(false);

    const missing = fakeRelease();
    execFileSync('rm', [join(missing, `restic_${VERSION}_windows_amd64.zip`)]);
    expect(run(missing, output).stderr).toBe(`bundle-restic: restic_${VERSION}_windows_amd64.zip is not in ${missing}: download it from https://github.com/restic/restic/releases/tag/v${VERSION}\n`);

    const mixed = fakeRelease();
    writeFileSync(join(mixed, 'SHA256SUMS'), `${readFileSync(join(mixed, 'SHA256SUMS'), 'utf8')}${'1'.repeat(64)}  restic_0.16.0_linux_amd64.bz2\n`);
    expect(run(mixed, output).stderr).toBe(`bundle-restic: SHA256SUMS should list the files of one restic release; it names ${VERSION}, 0.16.0\n`);
    const unlisted = fakeRelease();
    writeFileSync(join(unlisted, 'SHA256SUMS'), readFileSync(join(unlisted, 'SHA256SUMS'), 'utf8').replace(/^.*linux_arm64.*\n/m, ''));
    expect(run(unlisted, output).stderr).toBe(`bundle-restic: SHA256SUMS has no line for restic_${VERSION}_linux_arm64.bz2\n`);
    expect(existsSync(output)).toBe(false);
  });
});
