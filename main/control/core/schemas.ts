import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import type { MethodInput, MethodName } from '../../contract.js';
import { USERNAME } from '../../../server/htpasswd.js';

const noInput = z.undefined();
const NO_CONTROL = /^[^\p{Cc}]*$/u;

const username = z.string().max(64).regex(USERNAME, 'a user name of letters, digits, @ . _ -');
const displayName = z
  .string()
  .trim()
  .min(1, 'a name is needed')
  .max(64, 'at most 64 characters')
  .regex(NO_CONTROL, 'no control characters');
const password = z.string().min(12, 'at least 12 characters').max(128).regex(NO_CONTROL, 'no control characters');
const quotaBytes = z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable();
const folderPath = z
  .string()
  .min(1)
  .max(4096)
  .refine((value) => !value.includes('\0') && isAbsolute(value), 'a full folder path');
const folderName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .refine((value) => !/[\\/\0]/.test(value) && value !== '.' && value !== '..', 'a folder name without / or \\');
const pem = z.string().min(1).max(65_536);
const snapshotId = z.string().regex(/^[0-9a-f]{8,64}$/, 'a snapshot ID: 8 to 64 hexadecimal digits');
// A path inside a backup as restic writes it: absolute, with forward slashes.
const snapshotPath = z
  .string()
  .max(4096)
  .regex(/^\/[^\0]*$/, 'a path inside the backup, starting with /');
const transferId = z.strictObject({ id: z.string().regex(/^[\w-]{16,64}$/, 'a transfer ID') });

export const listenAddresses = z.union([
  z.literal('auto'),
  z.array(z.string().refine((value) => isIP(value) !== 0, 'an IP address such as 192.168.1.20')).min(1).max(32),
]);
export const port = z.number().int().min(1).max(65535);
export const staleDays = z.number().int().min(1).max(365);
export const integrityDays = z.number().int().min(1).max(365);
/** An absolute folder, or an rclone remote and path (`name:path`); never something rclone could read as a flag. */
export const offsiteRemote = z
  .string()
  .min(1)
  .max(1024)
  .refine((value) => !/[\0\r\n]/.test(value) && !value.startsWith('-'), 'one line, not starting with -')
  .refine((value) => isAbsolute(value) || /^[\w.][\w. -]*:/.test(value), 'a full folder path, or an rclone remote and path such as backup-box:restic');
/** How many snapshots (or days) a retention rule keeps. */
const keepCount = z.number().int().min(0).max(10_000);
/** A retention policy: how many of each kind of snapshot it keeps; one that keeps nothing is refused. */
export const retentionPolicy = z
  .strictObject({ withinDays: keepCount, daily: keepCount, weekly: keepCount, monthly: keepCount, yearly: keepCount })
  .refine((policy) => Object.values(policy).some((count) => count > 0), 'a policy that keeps at least something (all zero would keep nothing)');
export const graceDays = z.number().int().min(0).max(3650);
/** An S3 service's address: http(s), a host and maybe a port, nothing else. */
const s3Endpoint = z
  .string()
  .max(512)
  .refine((value) => {
    try {
      const url = new URL(value);
      return /^https?:$/.test(url.protocol) && url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
    } catch {
      return false;
    }
  }, 'an address such as https://minio.example.net:9000');
/** An SSH server's host name or address. */
const sshHost = z.string().min(1).max(253).regex(/^[A-Za-z0-9:][A-Za-z0-9.:-]*$/, 'a host name or IP address');
/** rclone's --bwlimit in bytes per second, with an optional K, M or G. */
export const bandwidth = z.string().regex(/^\d+(\.\d+)?[KMG]?$/i, 'a rate such as 2M (2 MB per second) or 500K');

const hour = z.number().int().min(0, 'an hour from 0 to 23').max(23, 'an hour from 0 to 23');
export const quietHours = z.strictObject({ from: hour, to: hour }).refine((hours) => hours.from !== hours.to, 'quiet hours that end at another hour than they start');
export const digest = z.enum(['off', 'daily', 'weekly']);
const oneLine = (max: number) => z.string().trim().max(max).regex(NO_CONTROL, 'one line without control characters');
/** An http(s) address without a login in it (a token goes in the secret field or the path). */
const webAddress = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => {
    try {
      const url = new URL(value);
      return /^https?:$/.test(url.protocol) && url.username === '' && url.password === '';
    } catch {
      return false;
    }
  }, 'an address starting with https:// (or http://)');
const emailChannel = z.strictObject({
  kind: z.literal('email'),
  host: z.string().trim().min(1, 'the mail server’s name is needed').max(253).regex(/^[A-Za-z0-9.:[\]-]+$/, 'a host name such as smtp.gmail.com'),
  port,
  security: z.enum(['starttls', 'tls']),
  user: oneLine(256),
  from: z.email('a sender address such as backups@example.net'),
  to: z.email('a recipient address such as anna@example.net'),
  checkCertificate: z.boolean(),
});
const ntfyChannel = z.strictObject({ kind: z.literal('ntfy'), server: webAddress, topic: z.string().regex(/^[\w-]{1,64}$/, 'a topic of letters, digits, - and _'), checkCertificate: z.boolean() });
const webhookChannel = z.strictObject({ kind: z.literal('webhook'), checkCertificate: z.boolean() });
const pingChannel = z.strictObject({ kind: z.literal('ping'), username, checkCertificate: z.boolean() });
/** A notification channel as kept, without its secret. */
export const channelSettings = z.discriminatedUnion('kind', [emailChannel, ntfyChannel, webhookChannel, pingChannel]);
export const channelId = z.string().regex(/^[a-z0-9-]{1,40}$/, 'a channel id');
const channelInput = z.discriminatedUnion('kind', [
  emailChannel.extend({ id: channelId.optional(), secret: z.union([z.string().min(1).max(1024).regex(NO_CONTROL, 'no control characters'), z.null()]).optional() }),
  ntfyChannel.extend({ id: channelId.optional(), secret: z.union([z.string().regex(/^[\x21-\x7e]{1,256}$/, 'the access token, without spaces'), z.null()]).optional() }),
  webhookChannel.extend({ id: channelId.optional(), secret: webAddress.optional() }),
  pingChannel.extend({ id: channelId.optional(), secret: webAddress.optional() }),
]);

/** One schema per method: the compiler refuses a method without one, or a schema of the wrong shape. */
export const INPUTS: { [M in MethodName]: z.ZodType<MethodInput<M>> } = {
  getState: noInput,
  startServer: noInput,
  stopServer: noInput,
  updateSettings: z.strictObject({
    listenAddresses: listenAddresses.optional(),
    port: port.optional(),
    appendOnly: z.boolean().optional(),
    staleDays: staleDays.optional(),
    swapReminderDays: staleDays.optional(),
    integrityDays: integrityDays.optional(),
    autostart: z.boolean().optional(),
    notifications: z.boolean().optional(),
    keepAwake: z.boolean().optional(),
    setupComplete: z.boolean().optional(),
    quietHours: quietHours.nullable().optional(),
    digest: digest.optional(),
  }),
  dismissNotice: z.strictObject({ id: z.string().max(100) }),
  newGuiAddress: noInput,
  listDrives: noInput,
  browseFolder: z.strictObject({ path: folderPath.optional() }),
  createFolder: z.strictObject({ parent: folderPath, name: folderName }),
  pickFolder: noInput,
  chooseFolder: z.strictObject({ path: folderPath, label: displayName.optional() }),
  forgetDisk: z.strictObject({ diskId: z.string().max(100) }),
  renameDisk: z.strictObject({ diskId: z.string().max(100), label: displayName }),
  ejectDisk: noInput,
  addComputer: z.strictObject({
    displayName,
    appendOnly: z.boolean().optional(),
    quotaBytes: quotaBytes.optional(),
    password: password.optional(),
  }),
  removeComputer: z.strictObject({ username }),
  resetPassword: z.strictObject({ username }),
  renameComputer: z.strictObject({ username, displayName }),
  updateComputer: z.strictObject({ username, appendOnly: z.boolean().optional(), quotaBytes: quotaBytes.optional() }),
  createMaintenanceLogin: noInput,
  removeMaintenanceLogin: noInput,
  commandLines: z.strictObject({
    username,
    os: z.enum(['linux', 'macos', 'windows']),
    shell: z.enum(['bash', 'powershell', 'cmd']).optional(),
    resticVersion: z.enum(['before-0.17', '0.17-or-newer']),
    password: password.optional(),
    backupPaths: z.array(z.string().min(1).max(4096).regex(NO_CONTROL)).max(32).optional(),
    repository: username.optional(),
  }),
  setTls: z.strictObject({ enabled: z.boolean() }),
  caCertificate: noInput,
  regenerateCertificates: z.strictObject({ authority: z.boolean() }),
  importCertificate: z.strictObject({ certificatePem: pem, keyPem: pem }),
  useHouseholdCertificate: noInput,
  recentRequests: z.strictObject({ limit: z.number().int().min(1).max(10_000).optional() }),
  recentSummaries: noInput,
  checkIntegrity: noInput,
  // A repository is one or two folder names, as the server allows; the room checks it is one with findings.
  markRepaired: z.strictObject({ repo: z.string().max(512).regex(/^([^/.][^/]*(\/[^/.][^/]*)?)?$/) }),
  setOffsite: z.strictObject({
    remote: offsiteRemote,
    rcloneConfig: z.union([folderPath, z.null()]).optional(),
    bandwidth: z.union([bandwidth, z.null()]).optional(),
    graceDays: graceDays.optional(),
    nightOnly: z.boolean().optional(),
    warnAfterDays: staleDays.optional(),
  }),
  sftpHostKey: z.strictObject({ host: sshHost, port: port.optional() }),
  setOffsiteSftp: z
    .strictObject({
      host: sshHost,
      port: port.optional(),
      hostKeyFingerprint: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'a key fingerprint as ssh prints it, SHA256: and 43 letters, digits, + or /'),
      user: z.string().min(1).max(64).regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'a user name of letters, digits, dots, dashes and underscores'),
      password: z.string().min(1).max(1024).optional(),
      // Written into rclone's configuration: one line only.
      keyFile: folderPath.refine((value) => !/[\r\n]/.test(value), 'one line').optional(),
      folder: z.string().min(1).max(1024).refine((value) => !/[\0\r\n]/.test(value), 'one line'),
      bandwidth: z.union([bandwidth, z.null()]).optional(),
      graceDays: graceDays.optional(),
      nightOnly: z.boolean().optional(),
      warnAfterDays: staleDays.optional(),
    })
    .refine((input) => (input.password === undefined) !== (input.keyFile === undefined), 'either a password or a key file'),
  setOffsiteS3: z
    .strictObject({
      service: z.enum(['b2', 'wasabi', 'aws', 'other']),
      region: z.string().regex(/^[a-z0-9][a-z0-9-]{1,39}$/, 'a region such as us-west-004 or eu-central-1').optional(),
      endpoint: s3Endpoint.optional(),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name of 3 to 63 small letters, digits, dots and dashes'),
      folder: z
        .string()
        .regex(/^[\w.-]+(\/[\w.-]+)*$/, 'a folder such as restic or family/restic: letters, digits, dots, dashes, underscores and /')
        .refine((value) => !value.split('/').includes('..'), 'a folder without ..')
        .optional(),
      // Written into rclone's configuration: printable characters on one line.
      accessKeyId: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'the key ID, without spaces'),
      secretAccessKey: z.string().regex(/^[\x21-\x7e]{1,256}$/, 'the secret key, without spaces'),
      bandwidth: z.union([bandwidth, z.null()]).optional(),
      graceDays: graceDays.optional(),
      nightOnly: z.boolean().optional(),
      warnAfterDays: staleDays.optional(),
    })
    .refine((input) => (input.service === 'other' ? input.endpoint !== undefined : input.region !== undefined && input.endpoint === undefined), 'a region for B2, Wasabi and Amazon; an address for another service'),
  connectComputer: z.strictObject({ username, os: z.enum(['linux', 'macos', 'windows']) }),
  setupFile: z.strictObject({ username, os: z.enum(['linux', 'macos', 'windows']) }),
  repairLine: z.strictObject({ username, os: z.enum(['linux', 'macos', 'windows']) }),
  // Written into the script the line fetches (quoted there): one line of printable text.
  newLaptopLine: z.strictObject({
    username,
    os: z.enum(['linux', 'macos', 'windows']),
    target: z.string().trim().min(1, 'a folder, or leave it empty for the home folder').max(1024).regex(NO_CONTROL, 'no control characters').optional(),
  }),
  removeOffsite: noInput,
  copyOffsiteNow: noInput,
  rebuildFromCopy: noInput,
  setResticPath: z.strictObject({
    path: z.union([z.string().max(4096).refine((value) => !value.includes('\0') && isAbsolute(value), 'the full path of the restic program, such as /usr/local/bin/restic'), z.null()]),
  }),
  // restic reads the password as one line: no line breaks or other control characters.
  keepPassword: z.strictObject({ username, password: z.string().min(1, 'the password is needed').max(1024).regex(NO_CONTROL, 'no control characters') }),
  showPassword: z.strictObject({ username }),
  forgetPassword: z.strictObject({ username }),
  saveChannel: channelInput,
  removeChannel: z.strictObject({ id: channelId }),
  testChannel: z.strictObject({ id: channelId }),
  listSnapshots: z.strictObject({ username }),
  browseSnapshot: z.strictObject({ username, snapshotId, path: snapshotPath, offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }),
  // restic reads a name starting with - as an option.
  searchBackups: z.strictObject({ username, name: z.string().trim().min(1, 'a name to look for').max(255).regex(/^[^-\p{Cc}][^\p{Cc}]*$/u, 'a name that does not start with - and has no control characters') }),
  startDownload: z.strictObject({ username, snapshotId, path: snapshotPath, format: z.enum(['file', 'zip', 'tar']) }),
  restoreFolder: z.strictObject({ username, snapshotId, path: snapshotPath, target: folderPath, replace: z.boolean() }),
  transfer: transferId,
  cancelTransfer: transferId,
  emergencySheet: noInput,
  previewRetention: z.strictObject({ username, policy: retentionPolicy.optional() }),
  setRetentionPolicy: z.strictObject({ username, policy: retentionPolicy }),
  runRetention: z.strictObject({ username }),
  checkBackups: z.strictObject({ username }),
};

/** A short, readable account of what is wrong with an input. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
