import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSyncer } from '../../../server/fsync.js';
import { QUARANTINE_NAME, readScrubState, scrub, SCRUB_STATE_NAME, settleFindings, type ScrubOptions } from '../../../server/scrub/scrub.js';
import { runCli } from '../../helpers/cli-process.js';
import { makeObject } from '../../helpers/http.js';
import { makeSourceTree, restic, resticOk, treeDigest } from '../../helpers/restic.js';
import { startServer } from '../../helpers/running-server.js';
import { FailingDisk, FakeUsbDisk } from '../../helpers/tmpfs.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { canMount, hasTool } from '../../helpers/tools.js';
import { writeRepository } from '../../helpers/repository.js';

const syncer = createSyncer(() => undefined);

/** The data files of a repository folder, largest first, as paths relative to it. */
function packsBySize(repoFolder: string): string[] {
  return readdirSync(join(repoFolder, 'data'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort((a, b) => statSync(b).size - statSync(a).size)
    .map((path) => path.slice(repoFolder.length + 1));
}

/** Repositories of objects named by their SHA-256, written straight to the disk as the server would. */
function fillRepositories(root: string, repos: string[], perRepo: number, size: number): number {
  for (const repo of repos) {
    writeRepository(root, repo, perRepo, size);
  }
  return repos.length * perRepo;
}

/** Runs a pass that is stopped once `stopAfter` objects were read. */
async function stoppedPass(options: Omit<ScrubOptions, 'syncer' | 'quarantine'>, stopAfter: number) {
  const stop = new AbortController();
  return scrub({
    ...options,
    syncer,
    quarantine: false,
    signal: stop.signal,
    onProgress: (counts) => {
      if (counts.objects >= stopAfter) stop.abort();
    },
  });
}

describe.skipIf(!hasTool('restic'))('the scrub, on a repository made by restic', () => {
  it('names exactly the changed pack, the cut-off pack and the emptied snapshot; quarantine and the repair commands make check clean', { timeout: 240_000 }, async () => {
    const { url, dataDir } = await startServer();
    const repo = `rest:${url}/anna/`;
    const source = makeSourceTree(8, 3 << 20);
    await resticOk(repo, ['init']);
    await resticOk(repo, ['backup', source]);
    const repoFolder = join(dataDir, 'anna');
    const clean = await runCli(['scrub', '--path', dataDir]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/nothing damaged/);

    const [changed, cutOff] = packsBySize(repoFolder) as [string, string];
    const snapshot = `snapshots/${readdirSync(join(repoFolder, 'snapshots'))[0]}`;
    const changedBytes = readFileSync(join(repoFolder, changed));
    changedBytes[1000] = (changedBytes[1000] as number) ^ 0x01;
    writeFileSync(join(repoFolder, changed), changedBytes);
    truncateSync(join(repoFolder, cutOff), Math.floor(statSync(join(repoFolder, cutOff)).size / 2));
    writeFileSync(join(repoFolder, snapshot), '');

    const found = await runCli(['scrub', '--path', dataDir, '--json']);
    expect(found.code, found.stderr).toBe(1);
    const report = JSON.parse(found.stdout) as { finished: boolean; findings: { repo: string; file: string; damage: string }[] };
    expect(report.finished).toBe(true);
    expect(report.findings.map(({ repo: where, file, damage }) => ({ where, file, damage }))).toEqual(
      [
        { where: 'anna', file: changed, damage: 'changed' },
        { where: 'anna', file: cutOff, damage: 'truncated' },
        { where: 'anna', file: snapshot, damage: 'empty' },
      ].sort((a, b) => a.file.localeCompare(b.file)),
    );
    // restic agrees: the two packs are damaged.
    const check = await restic(repo, ['check', '--read-data']);
    expect(check.code).not.toBe(0);
    for (const pack of [changed, cutOff]) expect(check.stdout + check.stderr).toContain(pack.slice(pack.lastIndexOf('/') + 1, pack.lastIndexOf('/') + 9));

    const moved = await runCli(['scrub', '--path', dataDir, '--quarantine']);
    expect(moved.code).toBe(1);
    for (const file of [changed, cutOff, snapshot]) {
      expect(existsSync(join(repoFolder, file))).toBe(false);
      expect(existsSync(join(dataDir, QUARANTINE_NAME, 'anna', file))).toBe(true);
    }

    // The repair for restic 0.14 and 0.15, through the server.
    await resticOk(repo, ['rebuild-index']);
    await resticOk(repo, ['backup', source]);
    await resticOk(repo, ['check', '--read-data']);
    const target = tempDir('rts-restore-');
    await resticOk(repo, ['restore', 'latest', '--target', target]);
    expect(treeDigest(join(target, source))).toEqual(treeDigest(source));
    const after = await runCli(['scrub', '--path', dataDir]);
    expect(after.code, after.stdout).toBe(0);
  });
});

describe('the scrub', () => {
  it('resumes a stopped pass where it stopped, from the progress kept on the disk', { timeout: 60_000 }, async () => {
    const root = tempDir('rts-scrub-');
    const total = fillRepositories(root, ['alice', 'bob/laptop', 'carol'], 12, 64 << 10);
    const first = await stoppedPass({ root, saveEveryMs: 0 }, 10);
    expect(first.finished).toBe(false);
    const kept = await readScrubState(root);
    expect(kept.current?.objects).toBe(10);
    expect(kept.current?.after?.repo).toBe('alice');

    let readAgain = 0;
    const second = await scrub({ root, syncer, quarantine: false, onProgress: () => readAgain++ });
    expect(second.finished && second.pass.objects).toBe(total);
    // One call per file read, plus one for the end of the pass.
    expect(readAgain - 1).toBe(total - 10);
    const done = await readScrubState(root);
    expect(done.current).toBeNull();
    expect(done.last?.objects).toBe(total);
    expect(done.last?.findings).toEqual([]);
  });

  it('a repair said while a pass runs stays said: the pass does not bring back what it found before', { timeout: 60_000 }, async () => {
    const root = tempDir('rts-scrub-');
    fillRepositories(root, ['alice', 'bob'], 10, 64 << 10);
    const early = readdirSync(join(root, 'alice', 'data'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())[0] as { parentPath: string; name: string };
    writeFileSync(join(early.parentPath, early.name), 'damaged');
    let settled = false;
    const outcome = await scrub({
      root,
      syncer,
      quarantine: false,
      saveEveryMs: 0,
      // Slow enough for the repair to be said while the pass goes on.
      pace: () => 1 << 20,
      onProgress: (counts) => {
        if (!settled && counts.findings.length === 1) {
          settled = true;
          return settleFindings(root, 'alice', syncer);
        }
      },
    });
    expect(outcome.finished && outcome.pass.findings.map((finding) => finding.repo)).toEqual(['alice']);
    expect((await readScrubState(root)).open).toEqual([]);
    // The next pass finds it again: it was never repaired.
    await scrub({ root, syncer, quarantine: false });
    expect((await readScrubState(root)).open.map((finding) => finding.file)).toEqual([`data/${early.name.slice(0, 2)}/${early.name}`]);
  });

  it('through the command line: a whole folder, one repository, and what is wrong with the flags', { timeout: 60_000 }, async () => {
    const root = tempDir('rts-scrub-');
    fillRepositories(root, ['alice', 'bob'], 3, 4096);
    // Ends as a pack does, with a header length that fits: changed, not cut off.
    const bad = Buffer.concat([makeObject(4092).data, Buffer.alloc(4)]);
    mkdirSync(join(root, 'bob', 'data', 'ab'), { recursive: true });
    writeFileSync(join(root, 'bob', 'data', 'ab', `ab${'0'.repeat(62)}`), bad);
    writeFileSync(join(root, 'bob', 'index', 'notes.txt'), 'a file put there by hand');

    const one = await runCli(['scrub', '--path', root, '--repo', 'alice']);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/Checked 3 objects .*nothing damaged/);
    expect(existsSync(join(root, SCRUB_STATE_NAME))).toBe(false);

    const all = await runCli(['scrub', '--path', root]);
    expect(all.code).toBe(1);
    expect(all.stdout).toMatch(/bob\/data\/ab\/ab\w+: changed/);
    expect(all.stdout).toMatch(/bob\/index\/notes\.txt: misnamed/);
    expect(all.stdout).toMatch(/Checked 7 objects .*2 damaged or misplaced/);

    for (const [args, message] of [
      [['scrub'], /--path is required/],
      [['scrub', '--path', join(root, 'nowhere')], /no such folder/],
      [['scrub', '--path', root, '--repo', '../etc'], /not a repository name/],
      [['scrub', '--path', root, '--repo', 'dave'], /no repository of that name/],
      [['scrub', '--path', root, '--fast'], /Unknown option '--fast'/],
    ] as const) {
      const refused = await runCli([...args]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
  });

  it.skipIf(!canMount())('stops when the disk is unplugged mid-pass, writes nothing to the bare mount point, and goes on when it is back', { timeout: 60_000 }, async () => {
    const disk = new FakeUsbDisk(64);
    const root = disk.mountPoint;
    const total = fillRepositories(root, ['alice', 'bob'], 20, 256 << 10);
    let unplugged = false;
    const first = await scrub({
      root,
      syncer,
      quarantine: false,
      saveEveryMs: 0,
      onProgress: (counts) => {
        if (counts.objects === 15 && !unplugged) {
          unplugged = true;
          disk.unplug();
        }
      },
    });
    expect(first.finished).toBe(false);
    expect(!first.finished && first.diskMissing).toBe(true);
    expect(readdirSync(root)).toEqual([]);

    disk.plug();
    const kept = await readScrubState(root);
    expect(kept.current?.objects).toBe(15);
    let readAgain = 0;
    const second = await scrub({ root, syncer, quarantine: false, onProgress: () => readAgain++ });
    expect(second.finished && second.pass.objects).toBe(total);
    expect(readAgain - 1).toBe(total - 15);
  });

  it.skipIf(!canMount() || !hasTool('mkfs.btrfs'))('names a file the disk cannot read, and says the disk may be failing', { timeout: 60_000 }, async () => {
    const disk = new FailingDisk();
    fillRepositories(disk.mountPoint, ['anna'], 4, 200_000);
    const packs = readdirSync(join(disk.mountPoint, 'anna', 'data'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    const spoilt = packs[0] as (typeof packs)[number];
    disk.spoil(join(spoilt.parentPath, spoilt.name));
    const result = await runCli(['scrub', '--path', disk.mountPoint, '--json']);
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { objects: number; findings: { file: string; damage: string; detail: string }[] };
    expect(report.objects).toBe(4);
    expect(report.findings).toEqual([
      { repo: 'anna', file: `data/${spoilt.name.slice(0, 2)}/${spoilt.name}`, damage: 'unreadable', detail: expect.stringMatching(/error reading it \(EIO\): the disk may be failing/), foundAt: expect.any(String) },
    ]);
  });
});
