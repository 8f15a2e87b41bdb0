import type { CopyLocation } from '../core/command-lines.js';

/** What went wrong, in words, and rclone's own text for whoever wants the details. */
export interface Failure {
  problem: string;
  details: string;
}

/** The place the copy goes as people know it: `anna@grandma.example.net:22/backups`, `s3.example.com/bucket/folder`, a folder, or the rclone remote. */
export function placeInWords(location: CopyLocation): string {
  switch (location.kind) {
    case 'folder':
      return location.path;
    case 'sftp':
      return `${location.user ? `${location.user}@` : ''}${location.host}:${location.port ?? 22}${location.path.startsWith('/') ? '' : '/'}${location.path}`;
    case 's3':
      return location.url.replace(/^https?:\/\//, '');
    case 'rclone':
      return location.remote;
  }
}

/** The place as the sentences below begin: "The SFTP server at 127.0.0.1:2222". */
export function placeName(location: CopyLocation | null): string {
  switch (location?.kind) {
    case 'folder':
      return `The folder ${location.path}`;
    case 'sftp':
      return `The SFTP server at ${location.host}:${location.port ?? 22}`;
    case 's3':
      return `The cloud storage at ${location.url.replace(/^https?:\/\//, '').split('/')[0]}`;
    case 'rclone':
      return `The copy’s storage (${location.remote.slice(0, location.remote.indexOf(':'))})`;
    default:
      return 'The copy’s storage';
  }
}

/** rclone's error lines (and its exit code) in words that name the place (`placeName`), rclone's own lines kept as the details. */
export function describeFailure(errors: string[], code: number | null, place = placeName(null)): Failure {
  const text = errors.join('\n');
  const details = [...new Set(errors)].join('\n') || `rclone stopped with exit code ${code}.`;
  const say = (problem: string): Failure => ({ problem, details });
  if (/immutable file modified|can't update immutable/i.test(text)) {
    return say('A file on the copy differs from the same file on the backup disk, and files of a backup never change: one of the two is damaged. Nothing was overwritten; run an integrity check.');
  }
  if (/knownhosts: key mismatch|host key mismatch/i.test(text)) {
    return say(
      `${place} now identifies itself with another key than the one you confirmed. If its owner reinstalled it, set the copy up again (Change…) and check the new key with them; if not, something may stand between you and that computer: do not use it.`,
    );
  }
  // Before the network's words: rclone says "couldn't connect SSH" for a refused login too.
  if (/unable to authenticate|authentication failed/i.test(text)) return say(`${place} refused the login: check the user name and the password or key file (Change…).`);
  if (/connection refused/i.test(text)) return say(`${place} refused the connection: check that it is switched on and that its address and port are right. It is tried again later.`);
  if (/no route to host|i\/o timeout|network is unreachable|no such host|couldn't connect|dial tcp/i.test(text)) {
    return say(`${place} cannot be reached: check that it is switched on and connected, and this computer’s internet connection. It is tried again later.`);
  }
  if (/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|Forbidden|status code: 403/.test(text)) {
    return say(`${place} refused the keys: check the key ID and the secret key, and that the key may read and write this bucket.`);
  }
  if (/NoSuchBucket/.test(text)) return say(`${place} has no bucket of that name: create it on the service’s web page first, or check its name.`);
  if (/no space left|quota exceeded|QuotaExceeded|disk quota/i.test(text)) return say(`${place} is full: free space there, or ask its owner for more.`);
  // OpenSSH's SFTP server gives one word for every failed write; a full disk is the usual one.
  if (/SSH_FX_FAILURE/.test(text)) return say(`${place} refused to write a file: it may be full there. Ask its owner to look at its free space.`);
  if (/permission denied|access denied|read-only file system/i.test(text)) {
    return say(`${place} may not be written in: check the folder’s name, or ask its owner to let the user write there.`);
  }
  const unknown = /destination "([^":]+):[^"]*": didn't find section in config file/.exec(text) ?? /"([^":]+):[^"]*": didn't find section in config file/.exec(text);
  if (unknown) return say(`rclone’s configuration has no remote called “${unknown[1]}”: set it up with rclone config first, or give the configuration file that has it.`);
  const last = errors.at(-1);
  return say(last ? `rclone failed: ${last.slice(0, 300)}` : `rclone stopped with exit code ${code}.`);
}
