import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import type { OffsiteS3Input, OffsiteSftpInput, SftpHostKey } from '../../contract.js';
import type { CopyLocation } from '../core/command-lines.js';
import { UserError } from '../core/errors.js';
import { writeFileAtomically } from '../core/files.js';
import { describeFailure } from './offsite-words.js';
import { runRclone } from './rclone.js';

/** The app's own rclone configuration, in its config folder. */
export const RCLONE_CONFIG_FILE = 'rclone.conf';
/** The SFTP server's host key, confirmed by the user when it was set up: rclone refuses a server that shows another one. */
const KNOWN_HOSTS_FILE = 'offsite-known-hosts';
/** The remotes the SFTP and S3 forms write into the app's rclone configuration. */
const SFTP_REMOTE = 'offsite-sftp';
const S3_REMOTE = 'offsite-s3';

/** One remote's settings from an rclone configuration file (INI). */
export function rcloneSection(text: string, name: string): Record<string, string> | undefined {
  let current: string | undefined;
  let found: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1];
      if (current === name) found = {};
      continue;
    }
    const pair = /^([\w-]+)\s*=\s*(.*)$/.exec(line);
    if (pair && current === name && found) found[pair[1] as string] = pair[2] as string;
  }
  return found;
}

/** An rclone configuration (INI) without the section `name`. */
function withoutSection(text: string, name: string): string {
  const kept: string[] = [];
  let skipping = false;
  for (const line of text.split('\n')) {
    const header = /^\s*\[(.+)\]\s*$/.exec(line);
    if (header) skipping = header[1] === name;
    if (!skipping) kept.push(line);
  }
  return kept.join('\n');
}

/**
 * The host key types rclone accepts, in the order it asks for them: rclone
 * (Go's SSH client) takes the first the server has, so that is the key the
 * user checks and the only one kept. rclone 1.63 and later are also told
 * the key's algorithms (`host_key_algorithms`); older ones ignore the line
 * and follow this order by themselves.
 */
const HOST_KEY_TYPES: Record<string, { name: string; algorithms: string }> = {
  'ecdsa-sha2-nistp256': { name: 'ECDSA', algorithms: 'ecdsa-sha2-nistp256' },
  'ecdsa-sha2-nistp384': { name: 'ECDSA', algorithms: 'ecdsa-sha2-nistp384' },
  'ecdsa-sha2-nistp521': { name: 'ECDSA', algorithms: 'ecdsa-sha2-nistp521' },
  'ssh-rsa': { name: 'RSA', algorithms: 'rsa-sha2-256 rsa-sha2-512' },
  'ssh-ed25519': { name: 'ED25519', algorithms: 'ssh-ed25519' },
};

/** A key's fingerprint as `ssh` prints it: SHA-256 of the key, base64 without padding. */
export function fingerprintOf(base64Key: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(base64Key, 'base64')).digest('base64').replace(/=+$/, '')}`;
}

/** Of `ssh-keyscan`'s lines, the one with the key rclone will be shown (see HOST_KEY_TYPES). */
export function keyRcloneSees(lines: string[]): { line: string; type: string; key: string } | undefined {
  const keys = lines.map((line) => {
    const [, type = '', key = ''] = line.trim().split(/\s+/);
    return { line: line.trim(), type, key };
  });
  for (const type of Object.keys(HOST_KEY_TYPES)) {
    const found = keys.find((one) => one.type === type && one.key !== '');
    if (found) return found;
  }
  return undefined;
}

/** The key the SSH server at host:port shows now, and its line for a known_hosts file. */
export async function scanHostKey(host: string, port: number): Promise<{ key: SftpHostKey; knownHost: string; algorithms: string }> {
  const scanned = await promisify(execFile)('ssh-keyscan', ['-T', '10', '-p', String(port), host]).then(
    ({ stdout }) => stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')),
    () => [] as string[],
  );
  if (scanned.length === 0) throw new UserError('offsite-unreachable', `No SSH server answered at ${host} port ${port}: check the address, and that the other computer is on and lets in SSH.`);
  const chosen = keyRcloneSees(scanned);
  if (!chosen) throw new UserError('offsite-unusable', `The SSH server at ${host} port ${port} has no host key of a kind rclone accepts (ED25519, ECDSA or RSA): its owner can add one.`);
  const type = HOST_KEY_TYPES[chosen.type] as { name: string; algorithms: string };
  return { key: { host, port, fingerprint: fingerprintOf(chosen.key), keyType: type.name }, knownHost: chosen.line, algorithms: type.algorithms };
}

/**
 * The SFTP form's target written into the app's rclone configuration: the
 * server's host key fetched again and kept only when it is the one the user
 * confirmed (rclone then refuses any other), the login as a key file or a
 * password that only goes through `rclone obscure` on stdin (obscured,
 * which is not encryption). Returns the remote's name.
 */
export async function writeSftpRemote(binary: string, configDir: string, input: OffsiteSftpInput): Promise<string> {
  const port = input.port ?? 22;
  const { key, knownHost, algorithms } = await scanHostKey(input.host, port);
  if (key.fingerprint !== input.hostKeyFingerprint) {
    throw new UserError(
      'offsite-host-key-changed',
      `The SFTP server at ${input.host}:${port} now identifies itself with another key (${key.fingerprint}, ${key.keyType}) than the one you confirmed (${input.hostKeyFingerprint}). Nothing was saved. If its owner changed the key, press Test and use again and check the new key with them; if not, something may stand between you and that computer: do not use it.`,
    );
  }
  const knownHosts = join(configDir, KNOWN_HOSTS_FILE);
  await writeFileAtomically(knownHosts, `${knownHost}\n`);
  let login = `key_file = ${input.keyFile}`;
  if (input.password !== undefined) {
    const obscured = await runRclone(['obscure', '-'], { binary, configFile: join(configDir, RCLONE_CONFIG_FILE), input: input.password });
    if (obscured.code !== 0) throw new UserError('offsite-unusable', `rclone could not store the password: ${describeFailure(obscured.errors, obscured.code).problem}`);
    login = `pass = ${obscured.output.trim()}`;
  }
  await writeSection(configDir, SFTP_REMOTE, [
    'type = sftp',
    `host = ${input.host}`,
    `port = ${port}`,
    `user = ${input.user}`,
    login,
    `known_hosts_file = ${knownHosts}`,
    `host_key_algorithms = ${algorithms}`,
  ]);
  return SFTP_REMOTE;
}

/** Where each S3 service is, from its region: rclone's provider, and the address both rclone and restic use. */
export function s3Endpoint(input: Pick<OffsiteS3Input, 'service' | 'region' | 'endpoint'>): { provider: string; endpoint: string | null } {
  switch (input.service) {
    case 'b2':
      return { provider: 'Other', endpoint: `https://s3.${input.region}.backblazeb2.com` };
    case 'wasabi':
      return { provider: 'Wasabi', endpoint: `https://s3.${input.region}.wasabisys.com` };
    case 'aws':
      return { provider: 'AWS', endpoint: null };
    case 'other':
      return { provider: 'Other', endpoint: input.endpoint?.replace(/\/$/, '') ?? null };
  }
}

/**
 * The S3 form's target written into the app's rclone configuration: rclone
 * keeps S3 keys as written (not even obscured), in a file only this user can
 * read. Returns the remote's name.
 */
export async function writeS3Remote(configDir: string, input: OffsiteS3Input): Promise<string> {
  const { provider, endpoint } = s3Endpoint(input);
  await writeSection(configDir, S3_REMOTE, [
    'type = s3',
    `provider = ${provider}`,
    'env_auth = false',
    `access_key_id = ${input.accessKeyId}`,
    `secret_access_key = ${input.secretAccessKey}`,
    ...(input.region ? [`region = ${input.region}`] : []),
    ...(endpoint ? [`endpoint = ${endpoint}`] : []),
  ]);
  return S3_REMOTE;
}

/** Reads the files the forms write; the function returned writes them back as they were (or removes them when there were none). */
export async function keepFormFiles(configDir: string): Promise<() => Promise<void>> {
  const files = [join(configDir, RCLONE_CONFIG_FILE), join(configDir, KNOWN_HOSTS_FILE)];
  const before = await Promise.all(files.map((file) => readFile(file).catch(() => null)));
  return async () => {
    await Promise.all(files.map((file, i) => (before[i] ? writeFileAtomically(file, before[i]) : rm(file, { force: true }))));
  };
}

/** Replaces (or adds) one remote in the app's rclone configuration, leaving the others as they were. */
async function writeSection(configDir: string, name: string, lines: string[]): Promise<void> {
  const file = join(configDir, RCLONE_CONFIG_FILE);
  const others = await readFile(file, 'utf8').then((text) => withoutSection(text, name), () => '');
  await writeFileAtomically(file, `${others}${others === '' || others.endsWith('\n') ? '' : '\n'}[${name}]\n${lines.join('\n')}\n`);
}

/** Where the copy is, as restic on a family computer reaches it: a folder, an SFTP server or S3 storage (read from rclone's configuration), or an rclone remote. */
export async function copyLocationOf(remote: string, configFile: string): Promise<CopyLocation> {
  if (isAbsolute(remote)) return { kind: 'folder', path: remote };
  const colon = remote.indexOf(':');
  const path = remote.slice(colon + 1);
  const section = await readFile(configFile, 'utf8').then((text) => rcloneSection(text, remote.slice(0, colon)), () => undefined);
  if (section?.type === 'sftp' && section.host) {
    return { kind: 'sftp', user: section.user ?? null, host: section.host, port: section.port ? Number(section.port) : null, path };
  }
  if (section?.type === 's3') {
    const endpoint = section.endpoint ?? `s3.${section.region ? `${section.region}.` : ''}amazonaws.com`;
    const base = /^https?:\/\//.test(endpoint) ? endpoint.replace(/\/$/, '') : `https://${endpoint}`;
    return { kind: 's3', url: `${base}/${path.replace(/^\//, '')}`, accessKeyId: section.access_key_id ?? null, region: section.region ?? null };
  }
  return { kind: 'rclone', remote };
}
