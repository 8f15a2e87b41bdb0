import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { TransferView } from '../../../../main/contract.js';
import type { Controller } from '../../../../main/control/controller.js';
import { freePort, openController, waitForState } from '../../../helpers/controller.js';
import { RESTIC_PASSWORD, resticOk, treeDigest } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { FakeUsbDisk } from '../../../helpers/tmpfs.js';
import { canMount, hasTool } from '../../../helpers/tools.js';

/** restic's --time takes the local time. */
const resticTime = (date: Date) => new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 19).replace('T', ' ');

/** The restic processes running now against `repo`. */
function resticProcesses(repo: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((args) => args.includes(repo) && /restic/.test(args));
}

/** Where each restic running against `repo` writes its standard output. */
function resticOutputs(repo: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((row) => /^\s*(\d+)\s+(\S*restic .*)$/.exec(row))
    .filter((row) => row !== null && (row[2] as string).includes(repo) && / dump /.test(row[2] as string))
    .map((row) => readlinkSync(`/proc/${row?.[1]}/fd/1`));
}

/** The CPU priority (nice) of restic running against `repo` with these words in its arguments, once it is running; undefined while there is none. */
function resticNice(repo: string, words: RegExp): number | undefined {
  const line = execFileSync('ps', ['-eo', 'ni=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((row) => /^\s*(-?\d+)\s+(.*)$/.exec(row))
    // restic itself, not `nice` about to start it.
    .find((row) => row !== null && /^\S*restic /.test(row[2] as string) && (row[2] as string).includes(repo) && words.test(row[2] as string));
  return line ? Number(line[1]) : undefined;
}

/** A controller on a fresh disk folder with Anna's laptop, its repository made by restic and its password kept. */
async function annaWithKeptPassword(options: Parameters<typeof openController>[0] = {}): Promise<{ controller: Controller; data: string; repo: string; username: string }> {
  const { controller } = await openController(options);
  const data = tempDir('rts-data-');
  await controller.chooseFolder({ path: data });
  const { username } = await controller.addComputer({ displayName: "Anna's laptop" });
  const repo = join(data, username);
  await resticOk(repo, ['init']);
  await controller.keepPassword({ username, password: RESTIC_PASSWORD });
  return { controller, data, repo, username };
}

async function until(controller: Controller, id: string, done: (view: TransferView) => boolean): Promise<TransferView> {
  return vi.waitFor(
    async () => {
      const view = await controller.transfer({ id });
      expect(done(view), JSON.stringify(view)).toBe(true);
      return view;
    },
    { timeout: 60_000, interval: 100 },
  );
}

describe.runIf(hasTool('restic'))('getting files back from the backups, with real restic on the disk', () => {
  it('lists snapshots newest first, pages a big folder from one run of restic, and finds the three versions of a changed file', { timeout: 180_000 }, async () => {
    const { controller, repo, username } = await annaWithKeptPassword();
    const source = tempDir('rts-source-');
    mkdirSync(join(source, 'many'));
    for (let index = 0; index < 1200; index++) writeFileSync(join(source, 'many', `note-${index}.txt`), `${index}`);
    const times = [new Date('2026-10-03T10:00:00Z'), new Date('2026-11-04T10:00:00Z'), new Date('2026-12-05T10:00:00Z')];
    for (const [index, time] of times.entries()) {
      writeFileSync(join(source, 'holiday.jpg'), `photo as it was, version ${index}`);
      await resticOk(repo, ['backup', '--host', 'annas-laptop', '--time', resticTime(time), source]);
    }

    const snapshots = await controller.listSnapshots({ username });
    expect(snapshots.map((snapshot) => Date.parse(snapshot.time))).toEqual(times.map((time) => time.getTime()).reverse());
    expect(snapshots[0]).toMatchObject({ host: 'annas-laptop', paths: [source], sizeBytes: null, shortId: expect.stringMatching(/^[0-9a-f]{8}$/) });

    const newest = snapshots[0]?.id as string;
    const top = await controller.browseSnapshot({ username, snapshotId: newest, path: source });
    expect(top.entries.map((entry) => [entry.name, entry.type])).toEqual([['many', 'dir'], ['holiday.jpg', 'file']]);
    expect(top.entries[1]).toMatchObject({ path: join(source, 'holiday.jpg'), sizeBytes: 'photo as it was, version 2'.length });

    const notes: string[] = [];
    controller.on('summary', (summary) => notes.push(summary.message));
    const first = await controller.browseSnapshot({ username, snapshotId: newest, path: join(source, 'many') });
    expect(first).toMatchObject({ offset: 0, total: 1200 });
    expect(first.entries).toHaveLength(500);
    const third = await controller.browseSnapshot({ username, snapshotId: newest, path: join(source, 'many'), offset: 1000 });
    expect(third.entries.map((entry) => entry.name).at(-1)).toBe('note-1199.txt');
    expect(third.entries).toHaveLength(200);
    // Natural order: note-2 before note-10.
    expect(first.entries.slice(0, 3).map((entry) => entry.name)).toEqual(['note-0.txt', 'note-1.txt', 'note-2.txt']);
    // One run of restic for all the pages: the folder shown above had it read ahead.
    expect(notes.filter((note) => /^(Reading|Looking ahead) /.test(note))).toEqual([`Looking ahead into the folders of ${source} in the backups of Anna's laptop: done.`]);

    const found = await controller.searchBackups({ username, name: 'HOLIDAY' });
    expect(found.truncated).toBe(false);
    expect(found.versions.map((version) => [version.path, version.sizeBytes, Date.parse(version.snapshotTime)])).toEqual(
      times.map((time, index) => [join(source, 'holiday.jpg'), `photo as it was, version ${index}`.length, time.getTime()]).reverse(),
    );
    // A pattern that starts with a dash is a name, not one of restic's options.
    expect(await controller.searchBackups({ username, name: '-holiday*' })).toEqual({ versions: [], truncated: false });

    // Opened once its read-ahead has ended, a folder is there at once: no restic.
    const older = snapshots[1]?.id as string;
    await controller.browseSnapshot({ username, snapshotId: older, path: source });
    await vi.waitFor(() => expect(notes.filter((note) => note.startsWith('Looking ahead'))).toHaveLength(2), { timeout: 30_000 });
    const runs = notes.length;
    const ahead = await controller.browseSnapshot({ username, snapshotId: older, path: join(source, 'many') });
    expect(ahead).toMatchObject({ offset: 0, total: 1200 });
    expect(ahead.entries.slice(0, 3).map((entry) => entry.name)).toEqual(['note-0.txt', 'note-1.txt', 'note-2.txt']);
    expect(notes).toHaveLength(runs);
  });

  it('downloads a file and a folder as tar and zip, byte for byte; a cancelled download leaves no restic running', { timeout: 180_000 }, async () => {
    const { controller, repo, username } = await annaWithKeptPassword();
    const source = tempDir('rts-source-');
    mkdirSync(join(source, 'photos', 'summer'), { recursive: true });
    writeFileSync(join(source, 'photos', 'summer', 'beach.jpg'), randomBytes(300_000));
    writeFileSync(join(source, 'photos', 'cat.jpg'), randomBytes(70_000));
    // A sparse file: restic reads gigabytes of zeros, so its dump runs long enough to be cancelled.
    writeFileSync(join(source, 'disk.img'), '');
    truncateSync(join(source, 'disk.img'), 4 * 2 ** 30);
    await resticOk(repo, ['backup', source], { timeoutMs: 600_000 });
    const [snapshot] = await controller.listSnapshots({ username });
    const snapshotId = snapshot?.id as string;

    const fetch = async (path: string, format: 'file' | 'zip' | 'tar'): Promise<Buffer> => {
      const started = await controller.startDownload({ username, snapshotId, path, format });
      expect(started).toMatchObject({ state: 'waiting', kind: 'download', destination: null });
      const download = controller.openDownload(started?.id as string);
      expect(download?.fileName).toBe(format === 'file' ? 'cat.jpg' : `photos.${format}`);
      // Fetched once only.
      expect(controller.openDownload(started?.id as string)).toBeNull();
      const chunks: Buffer[] = [];
      const sink = new PassThrough();
      sink.on('data', (chunk: Buffer) => chunks.push(chunk));
      await download?.send(sink);
      const ended = await until(controller, started?.id as string, (view) => view.state === 'done' && view.totalBytes !== null);
      expect(ended.bytes).toBe(Buffer.concat(chunks).length);
      return Buffer.concat(chunks);
    };
    expect((await fetch(join(source, 'photos', 'cat.jpg'), 'file')).equals(readFileSync(join(source, 'photos', 'cat.jpg')))).toBe(true);
    for (const format of ['tar', 'zip'] as const) {
      const unpacked = tempDir('rts-unpacked-');
      writeFileSync(join(unpacked, `photos.${format}`), await fetch(join(source, 'photos'), format));
      const unpack = format === 'tar' ? spawnSync('tar', ['-xf', `photos.${format}`], { cwd: unpacked }) : spawnSync('python3', ['-m', 'zipfile', '-e', `photos.${format}`, '.'], { cwd: unpacked });
      expect(unpack.status, String(unpack.stderr)).toBe(0);
      expect(treeDigest(join(unpacked, source.slice(1), 'photos'))).toEqual(treeDigest(join(source, 'photos')));
    }

    const slow = await controller.startDownload({ username, snapshotId, path: join(source, 'disk.img'), format: 'file' });
    // What the download has in all is measured on the side, at the lowest priority: it must not slow the download down.
    const measuring = await vi.waitFor(
      () => {
        const nice = resticNice(repo, / ls .*--recursive/);
        expect(nice).toBeDefined();
        return nice;
      },
      { timeout: 10_000, interval: 10 },
    );
    expect(measuring).toBe(19);
    const download = controller.openDownload(slow?.id as string);
    let received = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, next) {
        received += chunk.length;
        next();
      },
    });
    const sending = download?.send(sink);
    await vi.waitFor(() => expect(received).toBeGreaterThan(1 << 20), { timeout: 60_000, interval: 50 });
    expect(resticProcesses(repo).some((args) => args.includes(' dump '))).toBe(true);
    expect(resticNice(repo, / dump /)).toBe(0);
    expect(await controller.cancelTransfer({ id: slow?.id as string })).toMatchObject({ state: 'cancelled', message: 'Cancelled.' });
    await sending;
    expect(sink.destroyed).toBe(true);
    await vi.waitFor(() => expect(resticProcesses(repo)).toEqual([]), { timeout: 10_000, interval: 100 });
  });

  it('restores a folder next to files already there without touching them, unless asked to replace them', { timeout: 120_000 }, async () => {
    const { controller, repo, username } = await annaWithKeptPassword();
    const source = tempDir('rts-source-');
    mkdirSync(join(source, 'letters', 'old'), { recursive: true });
    writeFileSync(join(source, 'letters', 'to-grandma.txt'), 'Dear Grandma, as backed up');
    writeFileSync(join(source, 'letters', 'old', 'school.txt'), 'from school');
    writeFileSync(join(source, 'letters', 'bills.txt'), 'paid');
    await resticOk(repo, ['backup', source]);
    const [snapshot] = await controller.listSnapshots({ username });

    const target = tempDir('rts-target-');
    mkdirSync(join(target, 'letters'));
    writeFileSync(join(target, 'letters', 'to-grandma.txt'), 'Dear Grandma, written since');
    writeFileSync(join(target, 'letters', 'mine.txt'), 'only here');
    const input = { username, snapshotId: snapshot?.id as string, path: join(source, 'letters'), target, replace: false };
    const started = await controller.restoreFolder(input);
    expect(started).toMatchObject({ kind: 'restore', name: 'letters', destination: join(target, 'letters') });
    const ended = await until(controller, started.id, (view) => view.state !== 'running');
    expect(ended).toMatchObject({ state: 'done', files: 2, kept: 1, bytes: 'from school'.length + 'paid'.length });
    expect(ended.message).toBe(`Restored 2 files (15 bytes) into ${join(target, 'letters')}. 1 file was already there and was left as it was.`);
    expect(readFileSync(join(target, 'letters', 'to-grandma.txt'), 'utf8')).toBe('Dear Grandma, written since');
    expect(readFileSync(join(target, 'letters', 'old', 'school.txt'), 'utf8')).toBe('from school');
    expect(readFileSync(join(target, 'letters', 'mine.txt'), 'utf8')).toBe('only here');
    // restic's own folder is gone.
    expect(readdirSync(target)).toEqual(['letters']);

    const replaced = await until(controller, (await controller.restoreFolder({ ...input, replace: true })).id, (view) => view.state !== 'running');
    expect(replaced).toMatchObject({ state: 'done', files: 3, kept: 0 });
    expect(readFileSync(join(target, 'letters', 'to-grandma.txt'), 'utf8')).toBe('Dear Grandma, as backed up');
    expect(readFileSync(join(target, 'letters', 'mine.txt'), 'utf8')).toBe('only here');
    await expect(controller.restoreFolder({ ...input, target: join(target, 'nowhere') })).rejects.toMatchObject({ code: 'no-folder' });
  });

  it('the emergency sheet: the kept password, or who to ask; its restore command, run as printed in a terminal, brings the files back', { timeout: 120_000 }, async () => {
    const { controller, data, repo, username } = await annaWithKeptPassword();
    const bea = await controller.addComputer({ displayName: 'Bea’s desktop' });
    const source = tempDir('rts-source-');
    writeFileSync(join(source, 'recipe.txt'), 'two eggs');
    mkdirSync(join(source, 'photos'));
    writeFileSync(join(source, 'photos', 'cat.jpg'), randomBytes(50_000));
    await resticOk(repo, ['backup', source]);
    const notes: string[] = [];
    controller.on('summary', (summary) => notes.push(summary.message));

    const sheet = await controller.emergencySheet();
    const state = await controller.getState();
    expect(sheet).toMatchObject({ serverAddress: state.clientUrl, fingerprint: state.certificate.fingerprint, disk: { folder: data }, offsite: null });
    expect(sheet.computers).toEqual([
      { displayName: "Anna's laptop", username, repository: repo, password: RESTIC_PASSWORD, restoreCommand: `restic -r '${repo}' restore latest --target ~/restored-${username}`, fromCopy: null },
      { displayName: 'Bea’s desktop', username: bea.username, repository: join(data, bea.username), password: null, restoreCommand: null, fromCopy: null },
    ]);
    expect(notes).toEqual(['The emergency sheet was shown, with 1 kept encryption password.']);

    // Someone at another computer types the command and then the password restic asks for.
    const home = tempDir('rts-home-');
    const typed = spawnSync('bash', ['-c', sheet.computers[0]?.restoreCommand as string], { env: { PATH: process.env.PATH, HOME: home }, input: `${RESTIC_PASSWORD}\n`, encoding: 'utf8' });
    expect(typed.status, typed.stderr).toBe(0);
    expect(treeDigest(join(home, `restored-${username}`, source))).toEqual(treeDigest(source));
  });

  it('the desktop app: a download goes where the save dialog says, written there by restic itself, whole or not at all; a cancelled dialog downloads nothing; a full disk says so', { timeout: 120_000 }, async () => {
    const saveTo = tempDir('rts-saved-');
    const full = canMount() ? new FakeUsbDisk(2).mountPoint : null;
    const answers: (string | null)[] = [join(saveTo, 'my cat.jpg'), null, join(saveTo, 'disk.img'), join(saveTo, 'gone', 'cat.jpg'), ...(full ? [join(full, 'disk.img'), join(full, 'cat.jpg')] : [])];
    const asked: string[] = [];
    const { controller, repo, username } = await annaWithKeptPassword({
      askSaveFile: (fileName) => {
        asked.push(fileName);
        return Promise.resolve(answers.shift() ?? null);
      },
    });
    const source = tempDir('rts-source-');
    writeFileSync(join(source, 'cat.jpg'), randomBytes(70_000));
    writeFileSync(join(source, 'disk.img'), '');
    truncateSync(join(source, 'disk.img'), 4 * 2 ** 30);
    await resticOk(repo, ['backup', source], { timeoutMs: 600_000 });
    const [snapshot] = await controller.listSnapshots({ username });
    const input = { username, snapshotId: snapshot?.id as string, path: join(source, 'cat.jpg'), format: 'file' as const };

    const started = await controller.startDownload(input);
    expect(started).toMatchObject({ state: 'running', destination: join(saveTo, 'my cat.jpg') });
    expect(await until(controller, started?.id as string, (view) => view.state === 'done')).toMatchObject({ bytes: 70_000 });
    expect(readFileSync(join(saveTo, 'my cat.jpg')).equals(readFileSync(join(source, 'cat.jpg')))).toBe(true);
    expect(await controller.startDownload(input)).toBeNull();

    const big = await controller.startDownload({ ...input, path: join(source, 'disk.img') });
    await until(controller, big?.id as string, (view) => view.bytes > 1 << 20);
    expect(readdirSync(saveTo).sort()).toEqual(['disk.img.part', 'my cat.jpg']);
    // restic's standard output is the file itself: the bytes do not pass through the app.
    expect(resticOutputs(repo)).toEqual([join(saveTo, 'disk.img.part')]);
    await controller.cancelTransfer({ id: big?.id as string });
    expect(readdirSync(saveTo)).toEqual(['my cat.jpg']);
    const unwritable = await controller.startDownload(input);
    expect(await until(controller, unwritable?.id as string, (view) => view.state !== 'running')).toMatchObject({
      state: 'failed',
      message: `It could not be saved: the folder ${join(saveTo, 'gone')} is no longer there. Download it again and choose another folder.`,
    });
    if (full) {
      const tooBig = await controller.startDownload({ ...input, path: join(source, 'disk.img') });
      expect(await until(controller, tooBig?.id as string, (view) => view.state !== 'running')).toMatchObject({ state: 'failed', message: 'It did not work: the disk it was writing to is full; make room on it, then try again.' });
      expect(readdirSync(full)).toEqual([]);
      // The same disk made read-only: even root may not write there.
      execFileSync('mount', ['-o', 'remount,ro,bind', full]);
      const readOnly = await controller.startDownload(input);
      expect(await until(controller, readOnly?.id as string, (view) => view.state !== 'running')).toMatchObject({
        state: 'failed',
        message: `It could not be saved: this app may not write in ${full}. Download it again and choose another folder.`,
      });
    }
    expect(asked).toEqual(['cat.jpg', 'cat.jpg', 'disk.img', 'cat.jpg', ...(full ? ['disk.img', 'cat.jpg'] : [])]);
    await vi.waitFor(() => expect(resticProcesses(repo)).toEqual([]), { timeout: 10_000, interval: 100 });
  });

  it.runIf(hasTool('rclone'))('the emergency sheet says where the offsite copy is, and its commands read a computer’s backups from there', { timeout: 180_000 }, async () => {
    const { controller, repo, username } = await annaWithKeptPassword();
    const source = tempDir('rts-source-');
    writeFileSync(join(source, 'recipe.txt'), 'two eggs');
    await resticOk(repo, ['backup', source]);
    // The copy is made from the disk the server serves.
    await controller.setTls({ enabled: false });
    await controller.updateSettings({ port: await freePort() });
    await controller.startServer();
    await waitForState(controller, (state) => state.status === 'serving' || state.status === 'attention');
    const copy = tempDir('rts-copy-');
    await controller.setOffsite({ remote: copy });
    await controller.copyOffsiteNow();
    await waitForState(controller, (state) => state.offsite.lastCopyAt !== null && state.offsite.running === null, 60_000);

    const sheet = await controller.emergencySheet();
    expect(sheet.offsite).toBe(copy);
    const steps = sheet.computers[0]?.fromCopy?.steps.map((step) => step.command) ?? [];
    expect(steps[0]).toBe(`export RESTIC_REPOSITORY='${join(copy, username)}'`);
    const home = tempDir('rts-home-');
    const read = spawnSync('bash', ['-c', steps.join('\n')], { env: { PATH: process.env.PATH, HOME: home, RESTIC_PASSWORD }, encoding: 'utf8' });
    expect(read.status, read.stderr).toBe(0);
    expect(treeDigest(join(home, 'restic-restore', source))).toEqual(treeDigest(source));
  });

  it('refuses in words while the password is not kept', { timeout: 60_000 }, async () => {
    const { controller } = await openController();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const { username } = await controller.addComputer({ displayName: 'Bea’s desktop' });
    await expect(controller.listSnapshots({ username })).rejects.toMatchObject({
      code: 'not-kept',
      message: 'Keep the encryption password of Bea’s desktop first (on its page): restic needs it to read its backups.',
    });
  });
});
