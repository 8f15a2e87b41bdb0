// The restic program the desktop app ships, one per platform, taken from a
// folder of restic's release files downloaded beforehand (this script never
// downloads): each file is checked against restic's published SHA256SUMS
// from that folder, then unpacked to build/restic/<os>-<arch>/, where
// electron-builder.yml takes it as an extra resource.
//
//   node scripts/bundle-restic.mjs <release folder> [<output folder>]
//
// The release folder holds SHA256SUMS (check its signature first:
// gpg --verify SHA256SUMS.asc SHA256SUMS) and, for the same version,
// restic_<version>_{linux_amd64,linux_arm64,darwin_amd64,darwin_arm64}.bz2 and
// restic_<version>_windows_amd64.zip. Unpacking needs bzip2 and unzip.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** restic's release name per platform, and the folder electron-builder's ${os}-${arch} names. */
export const PLATFORMS = [
  { release: 'linux_amd64', folder: 'linux-x64', archive: 'bz2', binary: 'restic' },
  { release: 'linux_arm64', folder: 'linux-arm64', archive: 'bz2', binary: 'restic' },
  { release: 'darwin_amd64', folder: 'mac-x64', archive: 'bz2', binary: 'restic' },
  { release: 'darwin_arm64', folder: 'mac-arm64', archive: 'bz2', binary: 'restic' },
  { release: 'windows_amd64', folder: 'win-x64', archive: 'zip', binary: 'restic.exe' },
];

/** SHA256SUMS as a map from file name to its hash (`<64 hex>  <name>`, or `<hash> *<name>` for binary mode). */
export function parseSums(text) {
  const sums = new Map();
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](\S+)$/.exec(line.trim());
    if (match) sums.set(match[2], match[1]);
  }
  return sums;
}

/** The release's version, from the names in SHA256SUMS; refused when there is not exactly one. */
export function releaseVersion(sums) {
  const versions = new Set([...sums.keys()].map((name) => /^restic_(\d+\.\d+\.\d+)_/.exec(name)?.[1]).filter(Boolean));
  if (versions.size !== 1) throw new Error(`SHA256SUMS should list the files of one restic release; it names ${versions.size === 0 ? 'none' : [...versions].join(', ')}`);
  return [...versions][0];
}

/** Each platform's release file, checked against its published hash; throws on the first that is missing or differs. */
export function verifiedFiles(folder) {
  const sums = parseSums(readFileSync(join(folder, 'SHA256SUMS'), 'utf8'));
  const version = releaseVersion(sums);
  return PLATFORMS.map((platform) => {
    const name = `restic_${version}_${platform.release}.${platform.archive}`;
    const expected = sums.get(name);
    if (!expected) throw new Error(`SHA256SUMS has no line for ${name}`);
    let content;
    try {
      content = readFileSync(join(folder, name));
    } catch {
      throw new Error(`${name} is not in ${folder}: download it from https://github.com/restic/restic/releases/tag/v${version}`);
    }
    const actual = createHash('sha256').update(content).digest('hex');
    if (actual !== expected) throw new Error(`${name} does not match restic's published SHA-256 (${actual} instead of ${expected}): download it again`);
    return { ...platform, version, path: join(folder, name) };
  });
}

/** The program inside a checked release file. */
function unpack(file) {
  if (file.archive === 'bz2') return execFileSync('bzip2', ['-dc', file.path], { maxBuffer: 1 << 30 });
  return execFileSync('unzip', ['-p', file.path, `restic_${file.version}_${file.release}.exe`], { maxBuffer: 1 << 30 });
}

export function bundleRestic(folder, output) {
  const files = verifiedFiles(folder);
  rmSync(output, { recursive: true, force: true });
  for (const file of files) {
    const target = join(output, file.folder, file.binary);
    mkdirSync(join(output, file.folder), { recursive: true });
    writeFileSync(target, unpack(file));
    chmodSync(target, 0o755);
  }
  return files;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [folder, output = 'build/restic'] = process.argv.slice(2);
  if (!folder) {
    console.error('usage: node scripts/bundle-restic.mjs <folder of restic release files with SHA256SUMS> [<output folder>]');
    process.exit(2);
  }
  try {
    const files = bundleRestic(resolve(folder), resolve(output));
    console.log(`restic ${files[0].version} checked against SHA256SUMS and unpacked for ${files.map((file) => file.folder).join(', ')} in ${output}`);
  } catch (error) {
    console.error(`bundle-restic: ${error.message}`);
    process.exit(1);
  }
}
