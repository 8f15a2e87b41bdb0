import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandSet } from '../../main/contract.js';
import type { Controller, ControllerOptions } from '../../main/control/controller.js';
import { freePort, openController, runBash, waitForState } from './controller.js';
import { makeSourceTree, RESTIC_PASSWORD } from './restic.js';
import { tempDir } from './temp-dir.js';

/** A client computer: its own home folder, holding the authority file where the commands expect it. */
export async function clientHome(controller: Controller): Promise<string> {
  const home = tempDir('rts-client-home-');
  const { pem, fileName } = await controller.caCertificate();
  mkdirSync(join(home, '.config', 'restic'), { recursive: true });
  writeFileSync(join(home, '.config', 'restic', fileName), pem);
  return home;
}

/** Pastes the set-up and one command into bash, as a person would; restic reads the encryption password from the environment. */
export async function paste(lines: CommandSet, command: keyof CommandSet['commands'], home: string): Promise<string> {
  const result = await runBash(`${lines.setup}\n${lines.commands[command].command}`, {
    HOME: home,
    RESTIC_PASSWORD,
    RESTIC_CACHE_DIR: join(home, '.cache'),
  });
  if (result.code !== 0) throw new Error(`${command} exited ${result.code}: ${result.stderr.slice(-1500)}`);
  return result.stdout;
}

/** A controller serving a fresh data folder with the household TLS certificate, as after the set-up. */
export async function servingController(options: Partial<ControllerOptions> = {}) {
  const opened = await openController(options);
  const { controller } = opened;
  await controller.chooseFolder({ path: tempDir('rts-data-') });
  await controller.updateSettings({ port: await freePort() });
  await controller.startServer();
  await waitForState(controller, (state) => state.status === 'serving' || state.status === 'attention');
  return opened;
}

/** Anna's laptop, added and backed up once (restic 0.14, its commands pasted as given) from a source tree of `files` random files of `size` bytes. */
export async function backedUpLaptop(controller: Controller, files = 4, size = 1 << 20) {
  const anna = await controller.addComputer({ displayName: "Anna's laptop" });
  const source = makeSourceTree(files, size);
  const home = await clientHome(controller);
  const lines = await controller.commandLines({ username: anna.username, os: 'linux', resticVersion: 'before-0.17', password: anna.password, backupPaths: [source] });
  await paste(lines, 'init', home);
  await paste(lines, 'backup', home);
  return { anna, source, home, lines };
}
