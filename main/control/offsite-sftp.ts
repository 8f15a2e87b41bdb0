import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { OffsiteSftpInput } from '../contract.js';
import { UserError } from './errors.js';
import { writeFileAtomically } from './files.js';
import { describeFailure } from './offsite-copy.js';
import { runRclone } from './rclone.js';

/** The app's own rclone configuration, in its config folder. */
export const RCLONE_CONFIG_FILE = 'rclone.conf';
/** The SFTP server's host key, fetched when it was set up: rclone refuses a server that shows another one. */
const KNOWN_HOSTS_FILE = 'offsite-known-hosts';
/** The remote the SFTP form writes into the app's rclone configuration. */
const SFTP_REMOTE = 'offsite-sftp';

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
  const section = [`[${SFTP_REMOTE}]`, 'type = sftp', `host = ${input.host}`, `port = ${port}`, `user = ${input.user}`, login, `known_hosts_file = ${knownHosts}`];
  const file = join(configDir, RCLONE_CONFIG_FILE);
  const others = await readFile(file, 'utf8').then((text) => withoutSection(text, SFTP_REMOTE), () => '');
  await writeFileAtomically(file, `${others}${others === '' || others.endsWith('\n') ? '' : '\n'}${section.join('\n')}\n`);
  return SFTP_REMOTE;
}
