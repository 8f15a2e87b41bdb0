import { describe, expect, it } from 'vitest';
import { describeFailure, placeInWords, placeName } from '../../../../main/control/offsite/offsite-words.js';

const sftp = { kind: 'sftp', user: 'anna', host: 'grandma.example.net', port: 2222, path: 'backups/our-house' } as const;
const s3 = { kind: 's3', url: 'https://s3.eu-central-1.wasabisys.com/family/restic-copy', accessKeyId: 'KEY', region: 'eu-central-1' } as const;

describe('the offsite copy in words', () => {
  it.each([
    [sftp, 'anna@grandma.example.net:2222/backups/our-house', 'The SFTP server at grandma.example.net:2222'],
    [{ ...sftp, user: null, port: null, path: '/srv/copy' }, 'grandma.example.net:22/srv/copy', 'The SFTP server at grandma.example.net:22'],
    [s3, 's3.eu-central-1.wasabisys.com/family/restic-copy', 'The cloud storage at s3.eu-central-1.wasabisys.com'],
    [{ kind: 'folder', path: '/media/other/copy' }, '/media/other/copy', 'The folder /media/other/copy'],
    [{ kind: 'rclone', remote: 'b2:family' }, 'b2:family', 'The copy’s storage (b2)'],
  ] as const)('%o is %s', (location, where, name) => {
    expect(placeInWords(location)).toBe(where);
    expect(placeName(location)).toBe(name);
  });

  // rclone 1.60's own lines for each case.
  it.each([
    ['NewFs: couldn\'t connect SSH: dial tcp 10.9.9.9:22: i/o timeout', /^The SFTP server at grandma\.example\.net:2222 cannot be reached: /],
    ['NewFs: couldn\'t connect SSH: dial tcp: lookup grandma.example.net: no such host', /^The SFTP server at grandma\.example\.net:2222 cannot be reached: /],
    ['Update ReadFrom failed: sftp: "Failure" (SSH_FX_FAILURE)', /^The SFTP server at grandma\.example\.net:2222 refused to write a file: it may be full there\./],
    ['Failed to copy: write /media/other/copy/x: no space left on device', /^The SFTP server at grandma\.example\.net:2222 is full: /],
  ])('%s', (line, words) => {
    const failure = describeFailure([line, line], null, placeName(sftp));
    expect(failure.problem).toMatch(words);
    expect(failure.details).toBe(line);
  });

  it('S3: a missing bucket and refused keys; no lines at all: the exit code', () => {
    const place = placeName(s3);
    expect(describeFailure(['NoSuchBucket: The specified bucket does not exist\n\tstatus code: 404'], null, place).problem).toBe(
      'The cloud storage at s3.eu-central-1.wasabisys.com has no bucket of that name: create it on the service’s web page first, or check its name.',
    );
    expect(describeFailure(['AccessDenied: Access Denied\n\tstatus code: 403'], null, place).problem).toMatch(/^The cloud storage at s3\.eu-central-1\.wasabisys\.com refused the keys: /);
    expect(describeFailure([], 3, place)).toEqual({ problem: 'rclone stopped with exit code 3.', details: 'rclone stopped with exit code 3.' });
  });
});
