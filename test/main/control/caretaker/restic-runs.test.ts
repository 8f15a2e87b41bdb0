import { execFileSync } from 'node:child_process';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResticRuns, type ResticResult } from '../../../../main/control/caretaker/restic-runs.js';
import { RESTIC_PASSWORD, resticOk } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

/** The restic processes running now against `repo`: pid and arguments. */
function resticProcesses(repo: string): { pid: number; args: string }[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && match[2]?.includes(repo) === true && /restic/.test(match[2]))
    .map((match) => ({ pid: Number(match[1]), args: match[2] as string }));
}

afterEach(() => {
  delete process.env.RESTIC_PASSWORD;
});

describe.runIf(hasTool('restic'))('every run of restic on the desktop', () => {
  it('parses --json and says each outcome in the live log, in words', { timeout: 60_000 }, async () => {
    const repo = join(tempDir('rts-runs-'), 'repo');
    await resticOk(repo, ['init']);
    const notes: string[] = [];
    const cache = tempDir('rts-runs-cache-');
    const runs = new ResticRuns(() => Promise.resolve('restic'), cache, (message, severity) => notes.push(`${severity}: ${message}`));
    const listed = await runs.run(['snapshots'], { repo, password: RESTIC_PASSWORD, purpose: 'Listing the snapshots', json: true });
    expect(listed).toMatchObject({ ok: true, code: 0, json: [], failure: null, wrongPassword: false });
    const wrong = await runs.run(['snapshots'], { repo, password: 'wrong one', purpose: 'Listing the snapshots', json: true });
    expect(wrong).toMatchObject({ ok: false, json: null, failure: 'the password does not open these backups', wrongPassword: true });
    const missing = await runs.run(['snapshots'], { repo: `${repo}-none`, password: RESTIC_PASSWORD, purpose: 'Listing elsewhere' });
    expect(missing.failure).toBe('there are no backups in that folder');
    expect(notes).toEqual(['info: Listing the snapshots: done.', 'warning: Listing the snapshots: it did not work, the password does not open these backups.', 'warning: Listing elsewhere: it did not work, there are no backups in that folder.']);
  });

  it('hands the password neither in the arguments nor in the environment; a run is stopped when the app quits, and none starts after', { timeout: 120_000 }, async () => {
    const folder = tempDir('rts-runs-');
    const repo = join(folder, 'repo');
    await resticOk(repo, ['init']);
    // A sparse file: restic reads gigabytes of zeros for a long while, and the disk holds almost nothing.
    const source = join(folder, 'big');
    writeFileSync(source, '');
    truncateSync(source, 64 * 2 ** 30);
    const cache = tempDir('rts-runs-cache-');
    // A password the user's own environment holds must not reach the run either.
    process.env.RESTIC_PASSWORD = 'from the user environment';
    const runs = new ResticRuns(() => Promise.resolve('restic'), cache, () => undefined);
    let result: ResticResult | undefined;
    const running = runs.run(['backup', source], { repo, password: RESTIC_PASSWORD, purpose: 'A long backup' }).then((outcome) => (result = outcome));
    const [child] = await vi.waitFor(
      () => {
        const found = resticProcesses(repo);
        expect(found).toHaveLength(1);
        return found;
      },
      { timeout: 20_000, interval: 50 },
    );
    const environ = readFileSync(`/proc/${child?.pid}/environ`, 'utf8').split('\0');
    const argv = readFileSync(`/proc/${child?.pid}/cmdline`, 'utf8');
    expect(environ).toContain(`RESTIC_CACHE_DIR=${cache}`);
    expect(environ.filter((entry) => entry.startsWith('RESTIC_PASSWORD'))).toEqual([]);
    expect(argv).not.toContain(RESTIC_PASSWORD);
    expect(result).toBeUndefined();

    await runs.close();
    await running;
    expect(result).toMatchObject({ ok: false });
    expect(resticProcesses(repo)).toEqual([]);
    await expect(runs.run(['snapshots'], { repo, password: RESTIC_PASSWORD, purpose: 'Too late' })).rejects.toThrow('The app is quitting: restic is not started any more.');
  });

  it('streams a run’s output as it comes (nothing ahead of it), stops it on cancel without a note of failure, and stops streams when the app quits', { timeout: 180_000 }, async () => {
    const folder = tempDir('rts-runs-');
    const repo = join(folder, 'repo');
    await resticOk(repo, ['init']);
    writeFileSync(join(folder, 'small.txt'), 'exactly these bytes');
    // Sparse: restic dumps gigabytes of zeros, long enough to be stopped.
    writeFileSync(join(folder, 'big'), '');
    truncateSync(join(folder, 'big'), 4 * 2 ** 30);
    await resticOk(repo, ['backup', join(folder, 'small.txt'), join(folder, 'big')], { timeoutMs: 600_000 });
    const notes: string[] = [];
    const runs = new ResticRuns(() => Promise.resolve('restic'), tempDir('rts-runs-cache-'), (message) => notes.push(message));

    const small = await runs.stream(['dump', 'latest', join(folder, 'small.txt')], { repo, password: RESTIC_PASSWORD, purpose: 'Dumping a file' });
    const chunks: Buffer[] = [];
    small.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    expect(await small.done).toMatchObject({ ok: true, failure: null });
    expect(Buffer.concat(chunks).toString()).toBe('exactly these bytes');

    let received = 0;
    const big = await runs.stream(['dump', 'latest', join(folder, 'big')], { repo, password: RESTIC_PASSWORD, purpose: 'Dumping a big file' });
    big.stdout.on('data', (chunk: Buffer) => (received += chunk.length));
    await vi.waitFor(() => expect(received).toBeGreaterThan(1 << 20), { timeout: 60_000, interval: 50 });
    big.cancel();
    expect(await big.done).toMatchObject({ ok: false, failure: 'it was cancelled' });
    expect(resticProcesses(repo)).toEqual([]);

    const quitting = await runs.stream(['dump', 'latest', join(folder, 'big')], { repo, password: RESTIC_PASSWORD, purpose: 'Dumping while quitting' });
    quitting.stdout.resume();
    await vi.waitFor(() => expect(resticProcesses(repo)).toHaveLength(1), { timeout: 20_000, interval: 50 });
    await runs.close();
    expect(await quitting.done).toMatchObject({ ok: false });
    expect(resticProcesses(repo)).toEqual([]);
    await expect(runs.stream(['snapshots'], { repo, password: RESTIC_PASSWORD, purpose: 'Too late' })).rejects.toThrow('The app is quitting');
    expect(notes).toEqual(['Dumping a file: done.', expect.stringMatching(/^Dumping while quitting: it did not work/)]);
  });
});
