import { describe, expect, it } from 'vitest';
import type { SnapshotEntry, SnapshotView } from '../../../../main/contract.js';
import { FolderCache } from '../../../../main/control/restore/folder-cache.js';
import { baseName, downloadName, includePattern, MAX_VERSIONS, parentOf, readFind, readNode, searchPattern, sortEntries } from '../../../../main/control/restore/restic-listings.js';

const snapshot = (id: string, time: string): SnapshotView => ({ id, shortId: id, time, host: 'annas-laptop', paths: ['/home/anna'], sizeBytes: null });
const match = (path: string, size: number, mtime: string, type = 'file') => ({ path, size, mtime, type });
const entry = (name: string, type: SnapshotEntry['type'] = 'file'): SnapshotEntry => ({ name, path: `/x/${name}`, type, sizeBytes: type === 'file' ? 1 : null, modifiedAt: null });

describe('reading what restic lists', () => {
  it.each([
    ['{"name":"a.txt","type":"file","path":"/d/a.txt","size":5,"mtime":"2026-01-01T00:00:00Z","struct_type":"node"}', { name: 'a.txt', path: '/d/a.txt', type: 'file', sizeBytes: 5, modifiedAt: '2026-01-01T00:00:00Z' }],
    ['{"name":"d","type":"dir","path":"/d","mtime":"2026-01-01T00:00:00Z","struct_type":"node"}', { name: 'd', path: '/d', type: 'dir', sizeBytes: null, modifiedAt: '2026-01-01T00:00:00Z' }],
    ['{"name":"dev","type":"chardev","path":"/dev","struct_type":"node"}', { name: 'dev', path: '/dev', type: 'other', sizeBytes: null, modifiedAt: null }],
    ['{"time":"2026-01-01T00:00:00Z","struct_type":"snapshot"}', null],
    ['not json', null],
  ])('a node of ls --json: %s', (line, expected) => {
    expect(readNode(line)).toEqual(expected);
  });

  it.each([
    ['/home/anna/photos', '/home/anna', 'photos'],
    ['/home', '/', 'home'],
    ['/home/', '/', 'home'],
    ['/', '/', ''],
  ])('the folder of %s is %s, its name %s', (path, parent, name) => {
    expect(parentOf(path)).toBe(parent);
    expect(baseName(path)).toBe(name);
  });

  it('a folder: folders first, then by name as people count (2 before 10), ignoring case', () => {
    expect(sortEntries([entry('b10'), entry('B2'), entry('zeta', 'dir'), entry('a1'), entry('Alpha', 'dir')]).map((item) => item.name)).toEqual(['Alpha', 'zeta', 'a1', 'B2', 'b10']);
  });

  it('find: each version once, with the newest snapshot holding it and how many do; folders left out', () => {
    const snapshots = [snapshot('s3', '2026-11-01T00:00:00Z'), snapshot('s2', '2026-10-01T00:00:00Z'), snapshot('s1', '2026-09-01T00:00:00Z')];
    const found = readFind(
      [
        { snapshot: 's3', hits: 2, matches: [match('/h/recipe.txt', 20, '2026-10-15T00:00:00Z'), match('/h/recipes', 0, '2026-10-15T00:00:00Z', 'dir')] },
        { snapshot: 's2', hits: 1, matches: [match('/h/recipe.txt', 20, '2026-10-15T00:00:00Z')] },
        { snapshot: 's1', hits: 1, matches: [match('/h/recipe.txt', 12, '2026-08-01T00:00:00Z')] },
        { snapshot: 'forgotten', hits: 1, matches: [match('/h/recipe.txt', 1, '2026-01-01T00:00:00Z')] },
      ],
      snapshots,
    );
    expect(found).toEqual({
      truncated: false,
      versions: [
        { path: '/h/recipe.txt', sizeBytes: 20, modifiedAt: '2026-10-15T00:00:00Z', snapshotId: 's3', snapshotTime: '2026-11-01T00:00:00Z', snapshots: 2 },
        { path: '/h/recipe.txt', sizeBytes: 12, modifiedAt: '2026-08-01T00:00:00Z', snapshotId: 's1', snapshotTime: '2026-09-01T00:00:00Z', snapshots: 1 },
      ],
    });
    const many = readFind([{ snapshot: 's1', matches: Array.from({ length: MAX_VERSIONS + 1 }, (_, index) => match(`/h/${index}.txt`, 1, '2026-08-01T00:00:00Z')) }], snapshots);
    expect(many.versions).toHaveLength(MAX_VERSIONS);
    expect(many.truncated).toBe(true);
  });

  it.each([
    ['holiday', '*holiday*'],
    ['*.jpg', '*.jpg'],
    ['IMG_00?.png', 'IMG_00?.png'],
  ])('a name typed as %s is looked for as %s', (name, pattern) => {
    expect(searchPattern(name)).toBe(pattern);
  });

  it.each([
    ['/home/anna/Photos', '/home/anna/Photos'],
    ['/home/anna/[draft] *notes?', '/home/anna/\\[draft\\] \\*notes\\?'],
  ])('restore --include %s takes the path literally', (path, pattern) => {
    expect(includePattern(path)).toBe(pattern);
  });

  it.each([
    ['/home/anna/cat.jpg', 'file', 'cat.jpg'],
    ['/home/anna/Photos', 'zip', 'Photos.zip'],
    ['/home/anna/Photos/', 'tar', 'Photos.tar'],
    ['/', 'zip', 'Anna-s laptop.zip'],
  ] as const)('%s as %s is saved as %s', (path, format, name) => {
    expect(downloadName(path, format, 'Anna/s laptop')).toBe(name);
  });
});

describe('the folder listings kept between pages', () => {
  it('reads a folder once, shares a read under way, and keeps at most the bound, the folder used longest ago going first', async () => {
    const cache = new FolderCache(10);
    let reads = 0;
    const listing = (count: number) => () => {
      reads++;
      return Promise.resolve(Array.from({ length: count }, (_, index) => entry(`f${index}`)));
    };
    await Promise.all([cache.get('a', listing(4)), cache.get('a', listing(4))]);
    await cache.get('b', listing(4));
    await cache.get('a', listing(4));
    expect(reads).toBe(2);
    // c does not fit with a and b: b, used longest ago, goes.
    await cache.get('c', listing(4));
    expect(cache.entries).toBe(8);
    await cache.get('a', listing(4));
    expect(reads).toBe(3);
    await cache.get('b', listing(4));
    expect(reads).toBe(4);
    // One folder bigger than the bound stays alone: its pages need it.
    await cache.get('huge', listing(25));
    expect(cache.entries).toBe(25);
    await cache.get('huge', listing(25));
    expect(reads).toBe(5);
  });

  it('a failed read is not kept: the next asks restic again', async () => {
    const cache = new FolderCache(10);
    await expect(cache.get('a', () => Promise.reject(new Error('disk gone')))).rejects.toThrow('disk gone');
    expect(await cache.get('a', () => Promise.resolve([entry('back')]))).toHaveLength(1);
  });
});
