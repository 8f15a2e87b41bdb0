import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { runBash, waitForState } from '../../../helpers/controller.js';
import { makeSourceTree, RESTIC_PASSWORD } from '../../../helpers/restic.js';
import { clientHome, paste, servingController } from '../../../helpers/client-computer.js';
import { hasTool } from '../../../helpers/tools.js';

/** Waits until a TLS client that trusts only `ca` accepts the server at `host`. */
async function waitForTrust(host: string, port: number, ca: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const trusted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port, ca }, () => {
        resolve(socket.authorized);
        socket.end();
      });
      socket.on('error', () => resolve(false));
    });
    if (trusted) return;
    if (Date.now() > deadline) throw new Error(`${host}:${port} never presented a certificate the authority vouches for`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe.runIf(hasTool('restic'))('the generated restic command lines, run by restic', () => {
  it('init, backup and snapshots work over TLS with the exported authority file', async () => {
    const { controller } = await servingController();
    const { username, password } = await controller.addComputer({ displayName: "Anna's laptop" });
    expect(username).toBe('annas-laptop');
    const source = makeSourceTree(12, 50_000);
    const lines = await controller.commandLines({ username, os: 'linux', resticVersion: 'before-0.17', password, backupPaths: [source] });
    expect(lines.setup).toContain('rest:https://');
    const home = await clientHome(controller);

    await paste(lines, 'init', home);
    await paste(lines, 'backup', home);
    const listed = await paste(lines, 'snapshots', home);
    expect(listed).toContain(source);

    // Unattended: the settings file, the password file and the scheduled script, with no password in the environment.
    const folder = join(home, '.config', 'restic');
    writeFileSync(join(folder, lines.envFile.fileName), lines.envFile.content, { mode: 0o600 });
    writeFileSync(join(folder, 'restic-password.txt'), RESTIC_PASSWORD, { mode: 0o600 });
    const script = lines.schedule.files[0] as { fileName: string; content: string };
    writeFileSync(join(folder, script.fileName), script.content);
    const scheduled = await runBash(`bash "$HOME/.config/restic/${script.fileName}"`, { HOME: home, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(scheduled.stderr).not.toMatch(/Fatal/);
    expect(scheduled.code).toBe(0);

    const state = await waitForState(controller, (s) => s.computers[0]?.snapshots === 2);
    const [anna] = state.computers;
    expect(anna?.lastBackupAt).not.toBeNull();
    expect(anna?.sizeBytes).toBeGreaterThan(600_000);
    expect(anna?.stale).toBe(false);
    expect(state.disks[0]?.lastBackupAt).not.toBeNull();
    const requests = await controller.recentRequests({});
    expect(requests.some((entry) => entry.computer === "Anna's laptop" && entry.type === 'data' && entry.status === 200)).toBe(true);
    const summaries = (await controller.recentSummaries()).map((summary) => summary.message);
    expect(summaries).toContain("Anna's laptop: backup started.");
    expect(summaries.some((message) => message.startsWith("Anna's laptop: backup finished,"))).toBe(true);
  });

  it('a family computer (append-only) cannot forget its backups; the maintenance login can', { timeout: 240_000 }, async () => {
    const { controller } = await servingController();
    const { username, password } = await controller.addComputer({ displayName: 'Dana' });
    expect((await controller.getState()).computers[0]?.appendOnly).toBe(true);
    const source = makeSourceTree(3, 10_000);
    const lines = await controller.commandLines({ username, os: 'linux', resticVersion: 'before-0.17', password, backupPaths: [source] });
    const home = await clientHome(controller);
    await paste(lines, 'init', home);
    await paste(lines, 'backup', home);
    await paste(lines, 'backup', home);
    await expect(paste(lines, 'forget', home)).rejects.toThrow(/forget exited [1-9]/);
    expect((await controller.getState()).computers[0]?.snapshots).toBe(2);

    const maintenance = await controller.createMaintenanceLogin();
    const pruning = await controller.commandLines({ ...maintenance, repository: username, os: 'linux', resticVersion: 'before-0.17' });
    expect(pruning.setup).toContain(`rest:https://maintenance:${maintenance.password}@`);
    await paste(pruning, 'forget', home);
    expect(await paste(lines, 'snapshots', home)).toMatch(/^1 snapshots$/m);

    // The maintenance login's new index: the live log says what restic did, not a backup and not a forget.
    const rebuild = pruning.maintenance?.find((line) => line.command.startsWith('restic rebuild-index '));
    expect(rebuild).toBeDefined();
    const rebuilt = await runBash(`${pruning.setup}\n${rebuild?.command}`, { HOME: home, RESTIC_PASSWORD, RESTIC_CACHE_DIR: join(home, '.cache') });
    expect(rebuilt.code).toBe(0);
    const maintenanceSaid = async () => (await controller.recentSummaries()).filter((summary) => summary.user === 'maintenance').map((summary) => summary.message);
    await expect.poll(maintenanceSaid).toContainEqual(expect.stringMatching(/^maintenance: rebuilt the index: \d+ index files? written, \d+ old ones? deleted; no backup was removed\.$/));
    const said = await maintenanceSaid();
    expect(said).toContainEqual(expect.stringMatching(/^maintenance: forgot 1 old backup/));
    expect(said.filter((message) => /backup started|backup finished|removing old backups/.test(message))).toEqual([]);
    expect(await paste(lines, 'snapshots', home)).toMatch(/^1 snapshots$/m);
  });

  it('a login password full of shell-special characters still works', async () => {
    const { controller } = await servingController();
    const password = `p@ss w'rd"$HOME!\`ls\`;&|<>\\%20#~*?[]{}()`;
    const { username } = await controller.addComputer({ displayName: 'Bob', password });
    const source = makeSourceTree(3, 10_000);
    const lines = await controller.commandLines({ username, os: 'linux', resticVersion: 'before-0.17', password, backupPaths: [source] });
    const home = await clientHome(controller);
    await paste(lines, 'init', home);
    await paste(lines, 'backup', home);
    expect(await paste(lines, 'snapshots', home)).toContain(source);
  });

  it('a new LAN address gets a renewed certificate that the same authority file already trusts', async () => {
    const { controller, lan } = await servingController();
    const { username, password } = await controller.addComputer({ displayName: 'Carla' });
    const home = await clientHome(controller);
    const source = makeSourceTree(3, 10_000);
    const before = await controller.commandLines({ username, os: 'linux', resticVersion: 'before-0.17', password, backupPaths: [source] });
    await paste(before, 'init', home);
    const { certificate: old } = await controller.getState();
    expect(old.names).not.toContain('127.0.0.3');

    lan.push('127.0.0.3');
    await controller.refreshNetwork();
    const state = await waitForState(controller, (s) => s.certificate.names.includes('127.0.0.3') && s.listening.some((a) => a.startsWith('127.0.0.3:')));
    expect(state.certificate.fingerprint).toBe(old.fingerprint);
    expect(state.certificate.serverNotAfter).not.toBeNull();

    // The running server swaps the certificate in by itself (it watches the files once a second).
    const port = Number(state.clientUrl?.split(':')[2]?.replace('/', ''));
    await waitForTrust('127.0.0.3', port, (await controller.caCertificate()).pem);
    const moved = { ...before, setup: before.setup.replace('@127.0.0.2:', '@127.0.0.3:') };
    expect(moved.setup).toContain('@127.0.0.3:');
    await paste(moved, 'backup', home);
    expect(await paste(before, 'snapshots', home)).toContain(source);
  });
});
