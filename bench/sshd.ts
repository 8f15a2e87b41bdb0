import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './tools.js';

const running: ChildProcess[] = [];
const folders: string[] = [];

/** Stops every server started here and removes their folders. */
export function stopSshServers(): void {
  for (const child of running.splice(0)) child.kill('SIGKILL');
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
}

function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve();
      });
      socket.on('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on port ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * A real OpenSSH server on a free port of 127.0.0.1, with keys of its own:
 * the SFTP target of a relative's computer. It lets in one key (`clientKey`)
 * and writes where it is told; `knownHosts` holds its host key for clients.
 */
export class SshServer {
  readonly port: number;
  readonly clientKey: string;
  readonly knownHosts: string;
  /** A folder on the "other computer" to copy into. */
  readonly folder: string;
  /** Its host keys' public halves (`ssh-keygen -lf` prints their fingerprints), one per type asked for. */
  readonly hostKeys: string[] = [];
  private readonly config: string;
  private child: ChildProcess | undefined;

  private constructor(base: string, port: number) {
    this.port = port;
    this.clientKey = join(base, 'client_key');
    this.knownHosts = join(base, 'known_hosts');
    this.folder = join(base, 'remote-backups');
    this.config = join(base, 'sshd_config');
  }

  /** `hostKeyTypes`: the kinds of host key it has (ssh-keygen's -t), one ED25519 key unless told. */
  static async start(hostKeyTypes = ['ed25519']): Promise<SshServer> {
    const base = mkdtempSync(join(tmpdir(), 'rts-sshd-'));
    folders.push(base);
    const server = new SshServer(base, await freePort());
    const hostKeys = hostKeyTypes.map((type) => {
      const hostKey = join(base, `host_key_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', hostKey]);
      server.hostKeys.push(`${hostKey}.pub`);
      return hostKey;
    });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', server.clientKey]);
    writeFileSync(join(base, 'authorized_keys'), readFileSync(`${server.clientKey}.pub`));
    const known = server.hostKeys.map((file) => `[127.0.0.1]:${server.port} ${readFileSync(file, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    writeFileSync(server.knownHosts, known.join(''));
    mkdirSync(server.folder);
    // sshd refuses to start without its privilege separation folder.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    writeFileSync(
      server.config,
      [
        `Port ${server.port}`,
        'ListenAddress 127.0.0.1',
        ...hostKeys.map((hostKey) => `HostKey ${hostKey}`),
        `PidFile ${join(base, 'sshd.pid')}`,
        `AuthorizedKeysFile ${join(base, 'authorized_keys')}`,
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'PermitRootLogin prohibit-password',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    await server.resume();
    return server;
  }

  /** Stops the server, as when the relative's computer is switched off. */
  stop(): void {
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }

  /** Gives the server new host keys of the same kinds, as a reinstalled computer (or an impostor) shows, and starts it again. */
  async changeHostKeys(): Promise<void> {
    const child = this.child;
    this.stop();
    if (child && child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    for (const file of this.hostKeys) {
      const key = file.slice(0, -'.pub'.length);
      rmSync(key);
      rmSync(file);
      execFileSync('ssh-keygen', ['-q', '-t', key.slice(key.lastIndexOf('_') + 1), '-N', '', '-f', key]);
    }
    await this.resume();
  }

  /** Starts it again on the same port with the same keys. */
  async resume(): Promise<void> {
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', this.config], { stdio: 'ignore' });
    running.push(child);
    this.child = child;
    await waitForPort(this.port);
  }

  /** An rclone configuration with this server as the remote `name`. */
  rcloneConfig(name: string): string {
    return [`[${name}]`, 'type = sftp', 'host = 127.0.0.1', `port = ${this.port}`, 'user = root', `key_file = ${this.clientKey}`, `known_hosts_file = ${this.knownHosts}`, ''].join('\n');
  }

  /** restic's `-o sftp.command=...` for this server. */
  sftpCommand(): string {
    return `ssh -p ${this.port} -i ${this.clientKey} -o UserKnownHostsFile=${this.knownHosts} -o IdentitiesOnly=yes root@127.0.0.1 -s sftp`;
  }
}
