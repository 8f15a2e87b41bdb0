import { spawnSync } from 'node:child_process';

const PACKAGE: Record<string, string> = {
  restic: 'restic',
  mount: 'util-linux',
  htpasswd: 'apache2-utils',
  openssl: 'openssl',
  promtool: 'prometheus',
  chromium: 'chromium',
  'mkfs.btrfs': 'btrfs-progs',
  rclone: 'rclone',
  sshd: 'openssh-server',
  script: 'util-linux',
  setsid: 'util-linux',
  chattr: 'e2fsprogs',
};

/**
 * Whether a command-line tool the tests drive is installed. Under CI=true a
 * missing tool fails the run (a skipped real-client test proves nothing);
 * elsewhere the tests that need it are skipped with a one-line reason.
 */
export function hasTool(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (found) return true;
  const install = `apt-get install -y ${PACKAGE[name] ?? name}`;
  if (process.env.CI === 'true') throw new Error(`${name} is required under CI=true but is not installed (${install})`);
  console.warn(`skipping tests that need ${name}: it is not installed (${install})`);
  return false;
}

/** Mounting a tmpfs (the USB-disk tests) needs root; under CI=true not being root fails. */
export function canMount(): boolean {
  const root = process.getuid?.() === 0;
  if (root) return hasTool('mount');
  if (process.env.CI === 'true') throw new Error('the disk tests mount a tmpfs and must run as root under CI=true');
  console.warn('skipping tests that mount a tmpfs: they need root');
  return false;
}
