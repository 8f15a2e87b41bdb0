import { afterAll } from 'vitest';
import type { ControllerOptions } from '../../main/control/controller.js';
import { startBridge, type Bridge } from '../../main/headless/bridge.js';
import { freePort, openController } from './controller.js';

const bridges: Bridge[] = [];
afterAll(async () => {
  await Promise.all(bridges.splice(0).map((bridge) => bridge.close()));
});

/**
 * Headless mode, as `npm run headless` runs it, on a config folder of its own
 * (a free port for the server); `desktop` plays the desktop app's controller.
 */
export async function headless(options: Partial<ControllerOptions> = {}) {
  const { controller, configDir } = await openController(options);
  await controller.updateSettings({ port: await freePort() });
  const bugs: unknown[] = [];
  const bridge = await startBridge({ api: controller, port: 0, staticDir: 'dist/renderer', onBug: (error) => bugs.push(error) });
  bridges.push(bridge);
  return { controller, configDir, bridge, bugs };
}
