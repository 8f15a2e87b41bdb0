import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import type { OffsiteS3Input, OffsiteSftpInput } from '../../contract.js';
import type { CopyLocation } from '../core/command-lines.js';
import { UserError } from '../core/errors.js';
import { writeFileAtomically } from '../core/files.js';
import { describeFailure } from './offsite-copy.js';
import { runRclone } from './rclone.js';

/** The app's own rclone configuration, in its config folder. */
export const RCLONE_CONFIG_FILE = 'rclone.conf';
/** The SFTP server's host key, fetched when it was set up: rclone refuses a server that shows another one. */
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
 * The SFTP form's target written into the app's rclone configuration: the
 * server's host key fetched and kept (rclone then refuses an impostor), the
 * login as a key file or a password that only goes through `rclone obscure`
 * on stdin (obscured, which is not encryption). Returns the remote's name.
 */
export async function writeSftpRemote(binary: string, configDir: string, input: OffsiteSftpInput): Promise<string> {
  const port = input.port ?? 22;
  const scanned = await promisify(execFile)('ssh-keyscan', ['-T', '10', '-p', String(port), input.host]).then(
    ({ stdout }) => stdout.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')),
    () => [] as string[],
  );
  if (scanned.length === 0) throw new UserError('offsite-unreachable', `No SSH server answered at ${input.host} port ${port}: check the address, and that the other computer is on and lets in SSH.`);
  const knownHosts = join(configDir, KNOWN_HOSTS_FILE);
  await writeFileAtomically(knownHosts, `${scanned.join('\n')}\n`);
  let login = `key_file = ${input.keyFile}`;
  if (input.password !== undefined) {
    const obscured = await runRclone(['obscure', '-'], { binary, configFile: join(configDir, RCLONE_CONFIG_FILE), input: input.password });
    if (obscured.code !== 0) throw new UserError('offsite-unusable', `rclone could not store the password: ${describeFailure(obscured.errors, obscured.code)}`);
    login = `pass = ${obscured.output.trim()}`;
  }
  await writeSection(configDir, SFTP_REMOTE, ['type = sftp', `host = ${input.host}`, `port = ${port}`, `user = ${input.user}`, login, `known_hosts_file = ${knownHosts}`]);
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
