import { existsSync, mkdirSync, readdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MARKER_NAME } from '../../server/disk-guard.js';
import { ResticServer } from '../../server/server.js';
import { code, del, get, head, json, makeObject, post, run, V2, type Want } from '../helpers/http.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The refusal: a 500 whose text names the link (the data folder needs mending, not the client). */
const refusedFor =
  (link: string): Want =>
  (res) => {
    expect(res.status, res.text).toBe(500);
    expect(res.text).toBe(`${link} is a symbolic link; the server does not follow links out of the data folder\n`);
  };

/** A folder outside the data folder, holding a file with a restic-like name. */
function outside(): { folder: string; id: string } {
  const folder = tempDir('rts-outside-');
  const { id, data } = makeObject(100);
  writeFileSync(join(folder, id), data);
  return { folder, id };
}

/** A server with repository `r`, whose `name` (relative to the repository) is then replaced by a link to `target`. */
async function serverWithLink(name: string, target: string) {
  const running = await startServer();
  const warnings: string[] = [];
  running.server.on('warning', (message) => warnings.push(message));
  await run(running.url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
  const link = join(running.dataDir, 'r', name);
  renameSync(link, `${link}.real`);
  symlinkSync(target, link);
  return { ...running, link, warnings };
}

describe.skipIf(process.platform === 'win32')('links inside the data folder are never followed', () => {
  it('a lock upload into a locks/ that links outside is refused and writes nothing there; the live log is told once', async () => {
    const away = outside();
    const { url, link, warnings } = await serverWithLink('locks', away.folder);
    const lock = makeObject(200);
    await run(url, [
      { req: post(`/r/locks/${lock.id}`, lock.data), want: [refusedFor(link)] },
      { req: post(`/r/locks/${lock.id}`, lock.data), want: [refusedFor(link)] },
      { req: get('/r/locks/'), want: [refusedFor(link)] },
      { req: get('/r/locks/', { Accept: V2 }), want: [refusedFor(link)] },
      { req: get(`/r/locks/${away.id}`), want: [refusedFor(link)] },
      { req: head(`/r/locks/${away.id}`), want: [code(500)] },
      { req: del(`/r/locks/${away.id}`), want: [refusedFor(link)] },
    ]);
    expect(readdirSync(away.folder)).toEqual([away.id]);
    expect(warnings).toEqual([
      `${link} is a symbolic link; the server does not follow links out of the data folder (POST /r/locks/${lock.id} was refused). Put what it points to in its place, or remove the link.`,
    ]);
  });

  it('a large upload (written as it arrives, not on the worker in one go) into a linked index/ is refused too', async () => {
    const away = outside();
    const { url, link } = await serverWithLink('index', away.folder);
    const index = makeObject(3 << 20);
    await run(url, [{ req: post(`/r/index/${index.id}`, index.data), want: [refusedFor(link)] }]);
    expect(readdirSync(away.folder)).toEqual([away.id]);
  });

  it('a data/XX subfolder that links outside: uploads refused, left out of the listing (and said), nothing made there', async () => {
    const away = outside();
    const { url, dataDir, server } = await startServer();
    const warnings: string[] = [];
    server.on('warning', (message) => warnings.push(message));
    await run(url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    const prefix = away.id.slice(0, 2);
    let kept = makeObject(300);
    while (kept.id.startsWith(prefix)) kept = makeObject(300);
    let small = makeObject(50);
    while (!small.id.startsWith(prefix)) small = makeObject(50);
    await run(url, [{ req: post(`/r/data/${kept.id}`, kept.data), want: [code(200)] }]);
    const link = join(dataDir, 'r', 'data', prefix);
    renameSync(link, `${link}.real`);
    symlinkSync(away.folder, link);
    await run(url, [
      { req: get('/r/data/'), want: [code(200), json([kept.id])] },
      { req: get('/r/data/', { Accept: V2 }), want: [code(200), json([{ name: kept.id, size: 300 }])] },
      { req: post(`/r/data/${small.id}`, small.data), want: [refusedFor(link)] },
      { req: get(`/r/data/${away.id}`), want: [refusedFor(link)] },
    ]);
    expect(readdirSync(away.folder)).toEqual([away.id]);
    expect(warnings.join('\n')).toContain(`${link} is a symbolic link; the server does not follow links out of the data folder (a listing left it out)`);
  });

  it('a repository folder that links outside: no repository made in it, no config written, nothing read', async () => {
    const away = tempDir('rts-outside-');
    const { url, dataDir } = await startServer();
    symlinkSync(away, join(dataDir, 'linked'));
    const config = makeObject(100);
    await run(url, [
      { req: post('/linked/?create=true'), want: [refusedFor(join(dataDir, 'linked'))] },
      { req: post('/linked/sub/?create=true'), want: [refusedFor(join(dataDir, 'linked'))] },
    ]);
    expect(readdirSync(away)).toEqual([]);
    // A repository already there behind the link is not served either.
    for (const type of ['keys', 'locks', 'index', 'snapshots', 'data']) mkdirSync(join(away, type));
    writeFileSync(join(away, 'config'), config.data);
    await run(url, [
      { req: get('/linked/config'), want: [refusedFor(join(dataDir, 'linked'))] },
      { req: head('/linked/config'), want: [code(500)] },
      { req: post('/linked/config', config.data), want: [code(500)] },
      { req: del('/linked/config'), want: [refusedFor(join(dataDir, 'linked'))] },
      { req: get('/linked/keys/'), want: [refusedFor(join(dataDir, 'linked'))] },
    ]);
    expect(existsSync(join(away, 'config'))).toBe(true);
  });

  it('a type folder that links outside: creating the repository again is refused and makes nothing there', async () => {
    const away = tempDir('rts-outside-');
    const { url, link } = await serverWithLink('snapshots', away);
    await run(url, [{ req: post('/r/?create=true'), want: [refusedFor(link)] }]);
    expect(readdirSync(away)).toEqual([]);
  });

  it('a file that is itself a link is neither read nor stated, nor listed; deleting removes the link only', async () => {
    const away = outside();
    const { url, dataDir } = await startServer();
    await run(url, [{ req: post('/r/?create=true'), want: [code(200)] }]);
    const link = join(dataDir, 'r', 'snapshots', away.id);
    symlinkSync(join(away.folder, away.id), link);
    symlinkSync(join(away.folder, away.id), join(dataDir, 'r', 'config'));
    await run(url, [
      { req: get(`/r/snapshots/${away.id}`), want: [refusedFor(link)] },
      { req: get(`/r/snapshots/${away.id}`, { Range: 'bytes=0-9' }), want: [refusedFor(link)] },
      { req: head(`/r/snapshots/${away.id}`), want: [code(500)] },
      { req: get('/r/snapshots/'), want: [code(200), json([])] },
      { req: get('/r/config'), want: [refusedFor(join(dataDir, 'r', 'config'))] },
      { req: del(`/r/snapshots/${away.id}`), want: [code(200)] },
    ]);
    expect(existsSync(link)).toBe(false);
    expect(readdirSync(away.folder)).toEqual([away.id]);
  });

  it('real folders work as before, beside a link elsewhere in the data folder', async () => {
    const away = tempDir('rts-outside-');
    const { url, dataDir } = await startServer();
    symlinkSync(away, join(dataDir, 'linked'));
    const object = makeObject(2000);
    await run(url, [
      { req: post('/alice/laptop/?create=true'), want: [code(200)] },
      { req: post('/alice/laptop/config', 'config'), want: [code(200)] },
      { req: post(`/alice/laptop/data/${object.id}`, object.data), want: [code(200)] },
      { req: head(`/alice/laptop/data/${object.id}`), want: [code(200)] },
      { req: get('/alice/laptop/data/'), want: [code(200), json([object.id])] },
      { req: del(`/alice/laptop/data/${object.id}`), want: [code(200)] },
    ]);
  });

  it('a disk marker that is a link is not believed: the disk counts as missing (503), and no server starts on it', async () => {
    const { url, server, dataDir } = await startServer();
    const marker = join(dataDir, MARKER_NAME);
    const copy = join(tempDir('rts-elsewhere-'), MARKER_NAME);
    renameSync(marker, copy);
    symlinkSync(copy, marker);
    // The guard trusts a check for a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await run(url, [{ req: post('/r/?create=true'), want: [code(503)] }]);
    expect(server.diskState).toMatchObject({ ok: false, reason: `${marker} is a symbolic link; the server does not follow links out of the data folder: remove the link` });
    expect(readdirSync(dataDir)).toEqual([MARKER_NAME]);
    await expect(ResticServer.create({ path: dataDir, noAuth: true })).rejects.toThrow(
      `the disk marker ${marker} is damaged (${marker} is a symbolic link; the server does not follow links out of the data folder)`,
    );
  });
});
