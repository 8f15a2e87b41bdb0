import { describe, expect, it } from 'vitest';
import { parseTarget } from '../../server/repo-path.js';
import { HttpError } from '../../server/errors.js';

const ID = 'ab'.repeat(32);

describe('parseTarget', () => {
  it.each([
    ['/', { kind: 'repo', repo: [] }],
    ['/?create=true', { kind: 'repo', repo: [] }],
    ['/alice', { kind: 'repo', repo: ['alice'] }],
    ['/alice/', { kind: 'repo', repo: ['alice'] }],
    ['/alice/laptop/', { kind: 'repo', repo: ['alice', 'laptop'] }],
    ['/config', { kind: 'config', repo: [] }],
    ['/alice/laptop/config', { kind: 'config', repo: ['alice', 'laptop'] }],
    ['/data/', { kind: 'list', repo: [], type: 'data' }],
    ['/alice/keys', { kind: 'list', repo: ['alice'], type: 'keys' }],
    [`/alice/data/${ID}`, { kind: 'object', repo: ['alice'], type: 'data', name: ID }],
    [`/a/b/locks/${ID}`, { kind: 'object', repo: ['a', 'b'], type: 'locks', name: ID }],
    ['/%61lice/', { kind: 'repo', repo: ['alice'] }],
    ['/Anna%20M%C3%BCller/', { kind: 'repo', repo: ['Anna Müller'] }],
  ])('%s', (path, expected) => {
    expect(parseTarget(path)).toEqual(expected);
  });

  it.each([
    ['/a/b/c/', 404],
    ['/a/b/c/config', 404],
    ['/data/x/y', 404],
    ['/config/x', 404],
    ['//', 404],
    ['/..', 400],
    ['/%2e%2e/config', 400],
    ['/.', 400],
    ['/a%2fb/', 400],
    ['/a%5cb/', 400],
    ['/a%00/', 400],
    ['/c:/', 400],
    ['/.hidden/', 400],
    ['/trailing./', 400],
    ['/NUL/', 400],
    ['/lpt1.txt/', 400],
    ['/%E0%A4%A/', 400],
    ['relative', 400],
    [`/${'x'.repeat(256)}/`, 400],
  ])('%s is refused with %i', (path, status) => {
    expect(() => parseTarget(path)).toThrow(HttpError);
    try {
      parseTarget(path);
    } catch (error) {
      expect((error as HttpError).status).toBe(status);
    }
  });
});
