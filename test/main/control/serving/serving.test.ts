import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort, openController, openServing, waitForState } from '../../../helpers/controller.js';
import { basic } from '../../../helpers/htpasswd.js';
import { code, post, run } from '../../../helpers/http.js';
import { tempDir } from '../../../helpers/temp-dir.js';

describe('serving', () => {
  it('a port in use is an error state that says what to do, and a start after it is freed serves', async () => {
    const opened = await openController();
    const { controller } = opened;
    await controller.setTls({ enabled: false });
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const port = await freePort();
    await controller.updateSettings({ port });
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
    await controller.startServer();
    const failed = await waitForState(controller, (s) => s.status === 'error');
    expect(failed.colour).toBe('red');
    expect(failed.sentence).toBe(
      `The backup server cannot run: Port ${port} is already used by another program (another backup server?). Stop that program, or choose another port for this server.`,
    );
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    await controller.startServer();
    await waitForState(controller, (s) => s.status === 'serving');
  });

  it('an app that served when it stopped serves again when it starts, with the same logins', async () => {
    const { controller, configDir, url } = await openServing();
    const anna = await controller.addComputer({ displayName: 'Anna' });
    await controller.close();
    const { controller: again } = await openController({ configDir });
    const state = await waitForState(again, (s) => s.status === 'serving');
    expect(state.clientUrl?.replace(/\/$/, '')).toBe(url);
    await run(url, [{ req: post('/anna/?create=true', '', basic('anna', anna.password)), want: [code(200)] }]);
  });
});
