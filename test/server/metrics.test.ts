import { spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-process.js';
import { code, del, get, makeObject, post, run } from '../helpers/http.js';
import { basic, htpasswdFile } from '../helpers/htpasswd.js';
import { startServer } from '../helpers/running-server.js';
import { hasTool } from '../helpers/tools.js';

/** The value of one sample, e.g. `rest_server_blob_write_total{user="",repo="r",type="data"}` (no labels: `{}`). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    if ((match[2] ?? '').split(',').filter(Boolean).sort().join(',') === wanted.join(',')) return Number(match[3]);
  }
  return undefined;
}

describe.skipIf(!hasTool('promtool') || !hasTool('htpasswd'))('Prometheus metrics', () => {
  it('counts reads, writes and deletes with rest-server’s names and labels, and passes promtool', async () => {
    const file = htpasswdFile([['anna', 'pw']]);
    const { url } = await startServer({ noAuth: false, htpasswdFile: file, prometheus: { noAuth: false } });
    const as = (req: { method: string; path: string; body?: Buffer | string }) => ({ ...req, headers: basic('anna', 'pw') });
    const a = makeObject(1000);
    const b = makeObject(500);
    await run(url, [
      { req: as(post('/anna/?create=true')), want: [code(200)] },
      { req: as(post(`/anna/data/${a.id}`, a.data)), want: [code(200)] },
      { req: as(post(`/anna/snapshots/${b.id}`, b.data)), want: [code(200)] },
      { req: as(get(`/anna/data/${a.id}`)), want: [code(200)] },
      { req: as(get(`/anna/data/${a.id}`)), want: [code(200)] },
      { req: as(del(`/anna/snapshots/${b.id}`)), want: [code(200)] },
    ]);
    const [res] = await run(url, [{ req: as(get('/metrics')), want: [code(200)] }]);
    const text = res!.text;
    const labels = (type: string) => ({ user: 'anna', repo: 'anna', type });
    expect(sample(text, 'rest_server_blob_write_total', labels('data'))).toBe(1);
    expect(sample(text, 'rest_server_blob_write_bytes_total', labels('data'))).toBe(1000);
    expect(sample(text, 'rest_server_blob_read_total', labels('data'))).toBe(2);
    expect(sample(text, 'rest_server_blob_read_bytes_total', labels('data'))).toBe(2000);
    expect(sample(text, 'rest_server_blob_delete_total', labels('snapshots'))).toBe(1);
    expect(sample(text, 'rest_server_blob_delete_bytes_total', labels('snapshots'))).toBe(500);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text });
    expect(check.status, check.stdout.toString() + check.stderr.toString()).toBe(0);
  });

  it('reports each repository’s size and last snapshot time, also after a restart', async () => {
    const first = await startServer({ prometheus: { noAuth: true } });
    const snapshot = makeObject(300);
    await run(first.url, [
      { req: post('/pc/laptop/?create=true'), want: [code(200)] },
      { req: post('/pc/laptop/config', 'c'.repeat(100)), want: [code(200)] },
      { req: post(`/pc/laptop/snapshots/${snapshot.id}`, snapshot.data), want: [code(200)] },
    ]);
    const [live] = await run(first.url, [{ req: get('/metrics'), want: [code(200)] }]);
    expect(sample(live!.text, 'rest_server_repo_size_bytes', { repo: 'pc/laptop' })).toBe(400);
    await first.close();

    const second = await startServer({ path: first.dataDir, prometheus: { noAuth: true } });
    const [res] = await run(second.url, [{ req: get('/metrics'), want: [code(200)] }]);
    expect(sample(res!.text, 'rest_server_repo_size_bytes', { repo: 'pc/laptop' })).toBe(400);
    const mtime = statSync(join(first.dataDir, 'pc', 'laptop', 'snapshots', snapshot.id)).mtimeMs;
    expect(sample(res!.text, 'rest_server_repo_last_snapshot_timestamp_seconds', { repo: 'pc/laptop' })).toBe(Math.floor(mtime / 1000));
  });

  it('reports the integrity check’s last complete pass and what awaits repair, from the record in the data folder', { timeout: 30_000 }, async () => {
    const { url, dataDir } = await startServer({ prometheus: { noAuth: true } });
    const sound = makeObject(2000);
    const broken = makeObject(2000);
    await run(url, [
      { req: post('/pc/?create=true'), want: [code(200)] },
      { req: post(`/pc/data/${sound.id}`, sound.data), want: [code(200)] },
      { req: post(`/pc/snapshots/${broken.id}`, broken.data), want: [code(200)] },
    ]);
    const [before] = await run(url, [{ req: get('/metrics'), want: [code(200)] }]);
    expect(sample(before!.text, 'rest_server_scrub_last_complete_timestamp_seconds', {})).toBe(0);
    writeFileSync(join(dataDir, 'pc', 'snapshots', broken.id), 'no longer what it was');
    const started = Math.floor(Date.now() / 1000);
    expect((await runCli(['scrub', '--path', dataDir, '--quarantine'])).code).toBe(1);
    // The scrape reads the record at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [after] = await run(url, [{ req: get('/metrics'), want: [code(200)] }]);
    expect(sample(after!.text, 'rest_server_scrub_last_complete_timestamp_seconds', {})).toBeGreaterThanOrEqual(started);
    expect(sample(after!.text, 'rest_server_scrub_objects_verified', {})).toBe(2);
    expect(sample(after!.text, 'rest_server_scrub_damaged_objects', { repo: 'pc' })).toBe(1);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: after!.text });
    expect(check.status, check.stdout.toString() + check.stderr.toString()).toBe(0);
  });

  it('guards /metrics as rest-server does', async () => {
    const file = htpasswdFile([
      ['anna', 'a'],
      ['metrics', 'm'],
    ]);
    const guarded = await startServer({ noAuth: false, htpasswdFile: file, privateRepos: true, prometheus: { noAuth: false } });
    await run(guarded.url, [
      { req: get('/metrics'), want: [code(401)] },
      // A stranger learns nothing, not even from the method: 401 before 405.
      { req: post('/metrics'), want: [code(401)] },
      { req: { method: 'PUT', path: '/metrics' }, want: [code(401)] },
      { req: get('/metrics', basic('anna', 'a')), want: [code(403)] },
      { req: get('/metrics', basic('metrics', 'm')), want: [code(200)] },
      { req: post('/metrics', '', basic('metrics', 'm')), want: [code(405)] },
    ]);
    const open = await startServer({ noAuth: false, htpasswdFile: file, prometheus: { noAuth: true } });
    await run(open.url, [
      { req: get('/metrics'), want: [code(200)] },
      { req: get('/anna/keys/'), want: [code(401)] },
    ]);
  });
});
