/**
 * The API between the GUI and the main process: every method with its input
 * and result, and every event. The preload, the Electron IPC handlers and the
 * headless web bridge are all driven from `METHODS` and `EVENTS`; main checks
 * each input against the schema of the same name before using it. Types only
 * plus two name lists: the renderer imports this file and nothing else of main.
 */

export type ServerStatus = 'stopped' | 'starting' | 'serving' | 'attention' | 'disk-missing' | 'error';
export type Colour = 'grey' | 'green' | 'yellow' | 'red';

/** An error the user should see: what happened and what to do, in one or two sentences. */
export interface ApiError {
  code: string;
  message: string;
}

/** Something that needs attention while the server serves; `critical` turns the tray red. */
export interface Reason {
  key: string;
  severity: 'warning' | 'critical';
  message: string;
}

export type OperatingSystem = 'linux' | 'macos' | 'windows';
export type Shell = 'bash' | 'powershell' | 'cmd';
/** restic 0.17 added RESTIC_REST_USERNAME/PASSWORD; older versions need the login inside the URL. */
export type ResticVersion = 'before-0.17' | '0.17-or-newer';

/** One of a computer's last days: whether a backup of it arrived that day (null: it was not added yet). */
export interface BackupDay {
  /** `YYYY-MM-DD`, in this desktop's calendar. */
  day: string;
  arrived: boolean | null;
}

export interface ComputerOverview {
  username: string;
  displayName: string;
  /** The repository's path on the server, e.g. `/annas-laptop/`. */
  repoPath: string;
  appendOnly: boolean;
  quotaBytes: number | null;
  createdAt: string;
  /** When it last fetched its set-up through a "Connect this computer" line; null if never. */
  connectedAt: string | null;
  /** How its server login reached it last: by the line (its `restic-tray-backup` command uses it), or shown for setting it up by hand. */
  setUpBy: 'line' | 'hand';
  /** What that set-up reported: its system and restic version (null: not connected that way). */
  system: OperatingSystem | null;
  resticVersion: string | null;
  /** Whether that set-up found a scheduler for the daily backup (false: it backs up only when run by hand; null: not reported). */
  scheduled: boolean | null;
  /** Null until the repository was created (`restic init`). */
  sizeBytes: number | null;
  snapshots: number;
  lastBackupAt: string | null;
  locks: number;
  stale: boolean;
  /** With disks that take turns: each known disk, and the snapshots of this computer the app last saw on it. */
  disks: { diskId: string; label: string; current: boolean; snapshots: number; lastBackupAt: string | null }[];
  /** Its last 30 days, the oldest first and today last. */
  lastDays: BackupDay[];
}

export interface DiskView {
  id: string;
  label: string;
  folder: string;
  present: boolean;
  current: boolean;
  lastBackupAt: string | null;
  /** When the server last served it (null: not known yet); for the disk in use, now. */
  lastInUseAt: string | null;
}

export interface StorageView {
  folder: string;
  diskId: string;
  label: string;
  totalBytes: number;
  freeBytes: number;
  fileSystem: string | null;
  warnings: string[];
  /** The folder is on a file system in memory (tmpfs, ramfs): the backups vanish at the next restart. */
  inMemory: boolean;
  /** How fast the backups grow and when the disk will be full, from daily measurements; null until there are some. */
  trend: string | null;
  /** The disk's used bytes, one measurement a day (the oldest first, today last), up to 90 days. */
  usage: { day: string; usedBytes: number }[];
}

export interface CertificateView {
  mode: 'household' | 'own' | 'off';
  /** SHA-256 of the certificate clients trust (the household authority, or the own certificate). */
  fingerprint: string | null;
  serverNotAfter: string | null;
  /** The names and addresses the server certificate is valid for. */
  names: string[];
}

export interface SettingsView {
  listenAddresses: 'auto' | string[];
  port: number;
  appendOnly: boolean;
  staleDays: number;
  /** With disks that take turns: a disk away (not in use) longer than this many days is a reminder to swap them. */
  swapReminderDays: number;
  /** A full integrity check of the backup disk at least this often. */
  integrityDays: number;
  autostart: boolean;
  notifications: boolean;
  keepAwake: boolean;
  /** Problems found in these hours (local time, from one whole hour to another) wait until they end, except a failing disk; null: none. */
  quietHours: QuietHours | null;
  /** A summary sent through every channel each morning, each Monday morning, or never. */
  digest: Digest;
}

export interface QuietHours {
  from: number;
  to: number;
}
export type Digest = 'off' | 'daily' | 'weekly';

export type ChannelKind = 'email' | 'ntfy' | 'webhook' | 'ping';

/**
 * Where messages go, without its secret: an e-mail's password, an ntfy
 * access token, a webhook's address (it often carries a token), a ping
 * address. `checkCertificate` false trusts a self-made certificate.
 */
export type ChannelSettings =
  | { kind: 'email'; host: string; port: number; security: 'starttls' | 'tls'; user: string; from: string; to: string; checkCertificate: boolean }
  | { kind: 'ntfy'; server: string; topic: string; checkCertificate: boolean }
  | { kind: 'webhook'; checkCertificate: boolean }
  /** Pinged when that computer's backup arrives; the address with `/fail` when it is overdue. */
  | { kind: 'ping'; username: string; checkCertificate: boolean };

/** A channel to add (no `id`) or change; `secret` left out keeps the one kept, null removes it. */
export type ChannelInput = ChannelSettings & { id?: string; secret?: string | null };

export interface ChannelView {
  id: string;
  settings: ChannelSettings;
  /** Where it sends, in words, with nothing secret. */
  label: string;
  hasSecret: boolean;
  /** Why the last message did not go out; null when it did (or none was sent yet). */
  problem: string | null;
  /** It failed several times in a row: shown on the dashboard until a message goes out again. */
  failing: boolean;
  lastSentAt: string | null;
}

export interface NotifyView {
  channels: ChannelView[];
  /** Problems waiting for the quiet hours to end. */
  held: number;
}

/** What "Send a test" found, in words. */
export interface ChannelTest {
  sent: boolean;
  message: string;
}

export interface Notice {
  id: string;
  message: string;
}

export interface AppState {
  status: ServerStatus;
  colour: Colour;
  /** One sentence for the dashboard and the tray tooltip. */
  sentence: string;
  reasons: Reason[];
  /** The address computers use, e.g. `https://192.168.1.20:8000/`; null when not serving. */
  clientUrl: string | null;
  /** Every address the server listens on. */
  listening: string[];
  setupComplete: boolean;
  /** Whether `pickFolder` can show the system's folder dialog (in the desktop app, not in headless mode). */
  nativeFolderDialog: boolean;
  /** The desktop app (tray icon, notifications, starting with the computer); false in headless mode. */
  desktop: boolean;
  /** Headless mode: the file (readable only by its user) that keeps the GUI's address with its access key; null where there is no such address (the desktop app). */
  guiAddressFile: string | null;
  storage: StorageView | null;
  disks: DiskView[];
  computers: ComputerOverview[];
  maintenanceUser: string | null;
  certificate: CertificateView;
  integrity: IntegrityView;
  offsite: OffsiteView;
  caretaker: CaretakerView;
  notify: NotifyView;
  settings: SettingsView;
  /** Things that happened that the user should know (a settings file that was damaged, ...). */
  notices: Notice[];
}

export type Damage = 'changed' | 'truncated' | 'empty' | 'unreadable' | 'misnamed';

/** A file of a repository that failed the integrity check. */
export interface IntegrityFinding {
  /** The file inside the repository, e.g. `data/3f/3f5a...`. */
  file: string;
  damage: Damage;
  detail: string;
  /** Where it was moved on the disk, relative to the backup folder; null when it stays (a misnamed file). */
  quarantined: string | null;
  foundAt: string;
}

/** The integrity checks: every object on the backup disk hashed and compared with its name. */
export interface IntegrityView {
  everyDays: number;
  /** The check under way on the disk in use; `paced` while backups arrive (it reads slowly then). */
  running: { startedAt: string; objects: number; bytes: number; paced: boolean } | null;
  /** Each known disk's last complete check. */
  disks: { diskId: string; label: string; lastCheckedAt: string | null; objects: number | null; bytes: number | null; damaged: number | null }[];
  /** When the disk in use is due for its next check (null: not known yet, or no disk). */
  nextCheckAt: string | null;
  /** Damage found and not yet repaired, per repository; `username` when it is one of the computers. */
  awaitingRepair: { repo: string; username: string | null; displayName: string | null; findings: IntegrityFinding[] }[];
}

/** The copy of the backups elsewhere, made by rclone. */
export interface OffsiteView {
  /** Where rclone is; null with `installHint` when it is not installed. */
  rclone: string | null;
  installHint: string | null;
  /** Where the copy goes: a folder (another disk, a network folder) or an rclone remote, `name:path`. */
  target: {
    remote: string;
    /** The same place as people know it: `anna@grandma.example.net:22/backups` (SFTP), `bucket/folder at s3.example.com` (S3), a folder, or the remote. */
    where: string;
    bandwidth: string | null;
    rcloneConfig: string | null;
    graceDays: number;
    nightOnly: boolean;
    warnAfterDays: number;
  } | null;
  /** A copy, or with `rebuilding` a rebuild of the disk from the copy, under way. */
  running: { rebuilding: boolean; step: string; bytes: number; totalBytes: number; bytesPerSecond: number; secondsLeft: number | null } | null;
  lastCopyAt: string | null;
  /** What went wrong with the last copy, in words (it is tried again later). */
  problem: string | null;
  /** rclone's own words for it, for whoever wants the details. */
  problemDetails: string | null;
}

/** The desktop looking after the backups: restic on this computer, and the encryption passwords kept here. */
export interface CaretakerView {
  /** restic on this desktop; null (with `problem`) when it is missing or does not run. */
  restic: { path: string; version: string } | null;
  /** The restic program set in Settings; null: the one on PATH. */
  resticPath: string | null;
  /** Why restic cannot run, and how to install it, in words. */
  problem: string | null;
  /** The computers (user names) whose encryption password is kept on this desktop: only that it is, never the password. */
  keptPasswords: string[];
  /** What locks the kept passwords: the system keychain (the desktop app), or a key file in the app's config folder (headless mode). */
  passwordLock: 'keychain' | 'key-file';
  /** What the desktop does for each computer: its retention policy, and its runs of restic on the disk in use. */
  computers: ComputerCare[];
}

/** The named policies the page offers; `custom` is any other. */
export type RetentionPreset = 'standard' | 'lean' | 'generous' | 'custom';

/** One computer's upkeep by the desktop (its runs are read from the disk in use, whose record keeps them). */
export interface ComputerCare {
  username: string;
  policy: RetentionPolicy;
  preset: RetentionPreset;
  /** What restic is doing for it now. */
  running: 'retention' | 'check' | 'repair' | null;
  lastRetention: { at: string; ok: boolean; removed: number; freedBytes: number; problem: string | null } | null;
  /** When the weekly retention is due next (it then waits until the computer's backup arrived and it has been quiet 15 minutes); null without a kept password. */
  retentionDueAt: string | null;
  lastCheck: { at: string; outcome: 'ok' | 'damaged' | 'failed'; subset: string; problem: string | null } | null;
  /** The desktop's last repair after the integrity check; `healedAt` is the backup that put back what the damaged files held (null: the next backup will). */
  repair: { at: string; ok: boolean; steps: string[]; problem: string | null; healedAt: string | null } | null;
}

/** Which snapshots are kept: all from the last `withinDays` days, then the newest of so many days, weeks, months and years (0: none by that rule). */
export interface RetentionPolicy {
  withinDays: number;
  daily: number;
  weekly: number;
  monthly: number;
  yearly: number;
}

export interface SnapshotLine {
  id: string;
  time: string;
  host: string;
  paths: string[];
  /** Why restic keeps it, in its words ("daily snapshot", "within 2d"); empty for those that would go. */
  reasons: string[];
}

/** What a policy would do to a computer's backups now (restic forget --dry-run): nothing is removed by a preview. */
export interface RetentionPreview {
  policy: RetentionPolicy;
  keep: SnapshotLine[];
  forget: SnapshotLine[];
  /** About how much space pruning would free (restic's own estimate of what it would delete). */
  freedBytes: number;
}

/** One backup of a computer, as restic lists it. */
export interface SnapshotView {
  id: string;
  shortId: string;
  time: string;
  host: string;
  paths: string[];
  /** The bytes it holds where restic says (restic 0.17 and later); null otherwise. */
  sizeBytes: number | null;
}

/** A file or folder inside a backup. */
export interface SnapshotEntry {
  name: string;
  /** Its full path inside the backup, e.g. `/home/anna/Photos/2026`. */
  path: string;
  type: 'dir' | 'file' | 'symlink' | 'other';
  sizeBytes: number | null;
  modifiedAt: string | null;
}

/** One page of a folder inside a backup: folders first, then files, by name. */
export interface SnapshotFolder {
  snapshotId: string;
  path: string;
  entries: SnapshotEntry[];
  /** Where this page starts among the folder's `total` entries. */
  offset: number;
  total: number;
}

/** One version of a file found in a computer's backups: the newest backup holding it, and in how many it is. */
export interface FoundVersion {
  path: string;
  sizeBytes: number | null;
  modifiedAt: string | null;
  snapshotId: string;
  snapshotTime: string;
  snapshots: number;
}

export interface SearchResult {
  versions: FoundVersion[];
  /** More versions were found than are listed: a longer name finds fewer. */
  truncated: boolean;
}

/** One file as it is, or a folder packed as a .zip or .tar. */
export type DownloadFormat = 'file' | 'zip' | 'tar';

/** A download from the backups, or a folder restored into a folder on this desktop. */
export interface TransferView {
  id: string;
  kind: 'download' | 'restore';
  /** The download's file name (`Photos.zip`), or the folder restored. */
  name: string;
  /** `waiting`: a download the browser is to fetch from `/download/<id>` (headless mode: there is no save dialog). */
  state: 'waiting' | 'running' | 'done' | 'failed' | 'cancelled';
  bytes: number;
  /** About how many bytes there are in all, once known. */
  totalBytes: number | null;
  files: number;
  /** Files of a restore that were already in the folder and were left as they were. */
  kept: number;
  /** The saved file (desktop app) or the folder restored into; null for a browser download. */
  destination: string | null;
  /** How it ended, in words. */
  message: string | null;
}

/** The page for the family's drawer: how to reach every computer's backups without this app. */
export interface EmergencySheet {
  createdAt: string;
  serverAddress: string | null;
  fingerprint: string | null;
  /** The backup disk and where its backups are on this desktop. */
  disk: { label: string; folder: string } | null;
  computers: {
    displayName: string;
    username: string;
    /** The computer's backups on the disk, as this desktop sees them. */
    repository: string | null;
    /** The kept encryption password; null: not kept here. */
    password: string | null;
    /** restic's restore of the latest backup, straight from the disk, as typed in a terminal; null while there are no backups there. */
    restoreCommand: string | null;
    /** Reading the same backups from the offsite copy. */
    fromCopy: { steps: CommandLine[]; notes: string[] } | null;
  }[];
  /** Where the offsite copy is; null without one. */
  offsite: string | null;
}

export interface OffsiteInput {
  remote: string;
  /** An rclone configuration file that defines the remote (advanced: your own); leave out for the app's own. */
  rcloneConfig?: string | null;
  /** rclone's --bwlimit, e.g. `2M` (bytes per second); leave out for no limit. */
  bandwidth?: string | null;
  /** Files deleted on the backup disk stay on the copy this many days (default 30), so deleted snapshots can still be restored from it. */
  graceDays?: number;
  /** Copies that start by themselves do so only at night, 22:00 to 06:00 ("Copy now" works at any time). */
  nightOnly?: boolean;
  /** A copy older than this many days turns the tray yellow (default 7). */
  warnAfterDays?: number;
}

/** The key an SSH (SFTP) server identifies itself with, for the user to check with its owner before trusting it. */
export interface SftpHostKey {
  host: string;
  port: number;
  /** As `ssh` and `ssh-keygen -l` print it: `SHA256:` and the key's SHA-256 in base64 without padding. */
  fingerprint: string;
  /** ED25519, ECDSA or RSA (`ssh-keygen -l` prints it the same way). */
  keyType: string;
}

/** A relative's or friend's computer reached over SSH (SFTP), asked in a form. */
export interface OffsiteSftpInput {
  host: string;
  port?: number;
  /** The fingerprint the user confirmed (from `sftpHostKey`): the save is refused when the server shows another key now. */
  hostKeyFingerprint: string;
  user: string;
  /** One of the two: the account's password, or a private key file on this computer that it accepts. */
  password?: string;
  keyFile?: string;
  /** The folder there, e.g. `backups/our-house` (relative to the account's home) or a full path. */
  folder: string;
  bandwidth?: string | null;
  graceDays?: number;
  nightOnly?: boolean;
  warnAfterDays?: number;
}

/** Headless mode's GUI address, with its access key in the fragment, and the file that keeps it. */
export interface GuiAddress {
  url: string;
  file: string;
}

export interface ConnectInput {
  username: string;
  /** Linux and macOS get a line for a POSIX shell with curl; Windows one for PowerShell (5.1 or 7). */
  os: OperatingSystem;
}

/** A "Connect this computer" line: run once on that computer within 15 minutes. */
export interface ConnectLine {
  line: string;
  expiresAt: string;
}

/** A repair line: run once on a computer set up by the line, within 15 minutes; it may delete in its own backups until the repair ends (an hour at most). */
export interface RepairLine extends ConnectLine {
  /** What restic says on the way that looks alarming but is expected, to read before running it. */
  expected: string[];
}

/** A new computer set up with an old one's files: which system it runs, and where the files go (its home folder when left out). */
export interface NewLaptopInput extends ConnectInput {
  /** A folder on the new computer: a full path, or one inside its home (`Old laptop`, `~/Old laptop`). */
  target?: string;
}

/** The new-computer line: run once on the new computer within 15 minutes, it restores the newest backup there and connects it as the same computer. */
export interface NewLaptopLine extends ConnectLine {
  /** The backup it restores: the computer's newest. */
  backup: { time: string; host: string };
  /** The oldest restic that reads these backups (`0.14` for compressed ones), null when any does; the line says so there before it changes anything. */
  needsRestic: string | null;
}

/** The set-up script as a file, for a USB stick (it carries the computer's login: keep it safe, delete it after). */
export interface SetupFile {
  fileName: string;
  content: string;
}

/** Cloud storage that speaks S3 (Backblaze B2, Wasabi, Amazon S3, MinIO and others), asked in a form. */
export interface OffsiteS3Input {
  service: 'b2' | 'wasabi' | 'aws' | 'other';
  /** The storage's region, e.g. `us-west-004` (B2), `eu-central-1` (Wasabi, Amazon); needed except for `other`. */
  region?: string;
  /** Only for `other`: the service's address, e.g. `https://minio.example.net:9000`. */
  endpoint?: string;
  bucket: string;
  /** A folder inside the bucket; leave out for the bucket itself. */
  folder?: string;
  accessKeyId: string;
  secretAccessKey: string;
  bandwidth?: string | null;
  graceDays?: number;
  nightOnly?: boolean;
  warnAfterDays?: number;
}

export interface Drive {
  mountPoint: string;
  label: string;
  device: string;
  fileSystem: string;
  totalBytes: number;
  freeBytes: number;
  removable: boolean;
  network: boolean;
  /** The disk the operating system runs from: backups there are lost with the computer. */
  system: boolean;
  warnings: string[];
}

export interface FolderListing {
  path: string;
  parent: string | null;
  /** The user's home folder itself: never a one-click choice for the backups. */
  home: boolean;
  /** The drive the folder is on, when it is one of `listDrives` (not a tmpfs or a bind mount). */
  drive: Drive | null;
  /** The folder's file system (also for a tmpfs or a bind mount); null when it cannot be told. */
  fileSystem: string | null;
  /** What to know before keeping backups in this folder (the drive's warnings, or that it lives in memory). */
  warnings: string[];
  /** The folder is on a file system in memory (tmpfs, ramfs): whatever it holds is gone after a restart. */
  inMemory: boolean;
  folders: { name: string; path: string }[];
}

export interface AddComputerInput {
  displayName: string;
  appendOnly?: boolean;
  quotaBytes?: number | null;
  /** Leave out to have a strong one generated (the usual case). */
  password?: string;
}

export interface LoginCreated {
  username: string;
  /** Shown once: only its bcrypt hash is kept. */
  password: string;
}

export interface CommandLinesInput {
  username: string;
  os: OperatingSystem;
  shell?: Shell;
  resticVersion: ResticVersion;
  /** The server login's password, when just generated; otherwise a placeholder is shown. */
  password?: string;
  backupPaths?: string[];
  /** With the maintenance login: the computer (its user name) whose repository the commands look after. */
  repository?: string;
}

export interface CommandLine {
  label: string;
  command: string;
}

export interface CommandSet {
  shell: Shell;
  /** What the two secrets are, in plain words. */
  secrets: { serverLogin: string; encryptionPassword: string };
  /** Lines that set the repository and the login for the commands below. */
  setup: string;
  commands: { init: CommandLine; backup: CommandLine; snapshots: CommandLine; restore: CommandLine; forget: CommandLine };
  /** The same settings kept in a file, and how to use it. */
  envFile: { fileName: string; content: string; usage: string };
  schedule: { label: string; files: { fileName: string; content: string }[]; usage: string };
  /** After the integrity check moved damaged files aside: the steps that repair the repository, in order. */
  repair: { steps: CommandLine[]; notes: string[] };
  /** For a computer set up by the line: what its `restic-tray-backup` command does, with nothing to fill in (null otherwise). */
  installed: { commands: CommandLine[]; notes: string[] } | null;
  /** For the maintenance login only (null otherwise): forget and prune, check, a new index; it never creates a repository or backs up. */
  maintenance: CommandLine[] | null;
  /** Reading the backups straight from the offsite copy (when there is one), with restic's own ways there. */
  fromCopy: { steps: CommandLine[]; notes: string[] } | null;
  /** Set when TLS is on: the authority file to save next to the commands. */
  caFileName: string | null;
  notes: string[];
}

export interface CaCertificate {
  fileName: string;
  pem: string;
  fingerprint: string;
}

export interface LogEntry {
  time: string;
  remoteAddress: string;
  user: string | null;
  /** The computer's display name, when the user is one of them. */
  computer: string | null;
  method: string;
  path: string;
  repo: string | null;
  type: string | null;
  status: number;
  bytes: number;
  durationMs: number;
  completed: boolean;
}

export interface Summary {
  time: string;
  user: string | null;
  message: string;
  severity: 'info' | 'warning' | 'error';
}

export interface Notification {
  title: string;
  body: string;
}

export interface SettingsPatch {
  listenAddresses?: 'auto' | string[];
  port?: number;
  appendOnly?: boolean;
  staleDays?: number;
  swapReminderDays?: number;
  integrityDays?: number;
  autostart?: boolean;
  notifications?: boolean;
  keepAwake?: boolean;
  setupComplete?: boolean;
  quietHours?: QuietHours | null;
  digest?: Digest;
}

export interface Api {
  getState(): Promise<AppState>;
  startServer(): Promise<AppState>;
  stopServer(): Promise<AppState>;
  updateSettings(input: SettingsPatch): Promise<AppState>;
  dismissNotice(input: { id: string }): Promise<AppState>;
  /** Headless mode only (see `guiAddressFile`): a new access key in the GUI's address; the old address stops working at once. */
  newGuiAddress(): Promise<GuiAddress>;

  listDrives(): Promise<Drive[]>;
  browseFolder(input: { path?: string }): Promise<FolderListing>;
  createFolder(input: { parent: string; name: string }): Promise<FolderListing>;
  /** The system's folder dialog; null when cancelled (or where there is none: see `nativeFolderDialog`). */
  pickFolder(): Promise<string | null>;
  /** Serve this folder (a folder on a USB disk, usually); a new disk is adopted and remembered. */
  chooseFolder(input: { path: string; label?: string }): Promise<AppState>;
  forgetDisk(input: { diskId: string }): Promise<AppState>;
  /** Names a disk ("Home disk", "Away disk"): the name is shown everywhere instead of its folder's. */
  renameDisk(input: { diskId: string; label: string }): Promise<AppState>;
  /** Stops serving and waits for uploads in flight, so the disk can be unplugged. */
  ejectDisk(): Promise<{ safe: boolean; message: string }>;

  addComputer(input: AddComputerInput): Promise<LoginCreated>;
  removeComputer(input: { username: string }): Promise<AppState>;
  resetPassword(input: { username: string }): Promise<LoginCreated>;
  renameComputer(input: { username: string; displayName: string }): Promise<AppState>;
  updateComputer(input: { username: string; appendOnly?: boolean; quotaBytes?: number | null }): Promise<AppState>;
  createMaintenanceLogin(): Promise<LoginCreated>;
  removeMaintenanceLogin(): Promise<AppState>;
  commandLines(input: CommandLinesInput): Promise<CommandSet>;

  setTls(input: { enabled: boolean }): Promise<AppState>;
  caCertificate(): Promise<CaCertificate>;
  /** A new server certificate; with `authority`, a new household authority too (every computer needs the new file). */
  regenerateCertificates(input: { authority: boolean }): Promise<AppState>;
  importCertificate(input: { certificatePem: string; keyPem: string }): Promise<AppState>;
  useHouseholdCertificate(): Promise<AppState>;

  recentRequests(input: { limit?: number }): Promise<LogEntry[]>;
  recentSummaries(): Promise<Summary[]>;

  /** Starts an integrity check of the disk in use now (it reads slowly while backups arrive). */
  checkIntegrity(): Promise<AppState>;
  /** The repository was repaired (its computer ran the repair commands): its findings no longer wait. */
  markRepaired(input: { repo: string }): Promise<AppState>;

  /** Tests the target (writes, reads back and deletes a probe file), then copies there from now on. */
  setOffsite(input: OffsiteInput): Promise<AppState>;
  /** The key the SSH server at `host` shows, to be confirmed by the user before `setOffsiteSftp` trusts it. */
  sftpHostKey(input: { host: string; port?: number }): Promise<SftpHostKey>;
  /** A computer over SFTP as the target: its host key (the one the user confirmed) is fetched again, compared and kept, the login written into the app's rclone configuration (the password obscured, which is not encryption), then as `setOffsite`. */
  setOffsiteSftp(input: OffsiteSftpInput): Promise<AppState>;
  /** S3 cloud storage as the target: its keys written into the app's rclone configuration (as written: rclone does not obscure them), then as `setOffsite`. */
  setOffsiteS3(input: OffsiteS3Input): Promise<AppState>;
  /** A one-time line (15 minutes) that sets the computer up: it fetches a script from the server with the server's key pinned; the script gets a fresh server password that is never shown. */
  connectComputer(input: ConnectInput): Promise<ConnectLine>;
  /** The same set-up as a file to carry over (a fresh server password inside; the old one stops working). */
  setupFile(input: ConnectInput): Promise<SetupFile>;
  /** A one-time line (15 minutes) that repairs a computer's backups there with what its set-up installed, and a right to delete in them until it ends (an hour at most). */
  repairLine(input: ConnectInput): Promise<RepairLine>;
  /** A one-time line (15 minutes) for a new computer that replaces this one: the connect line's set-up with the kept encryption password, and the newest backup restored there first, never over a file. */
  newLaptopLine(input: NewLaptopInput): Promise<NewLaptopLine>;
  /** No more copies; what is on the copy stays there. */
  removeOffsite(): Promise<AppState>;
  /** Copies now (copies also start by themselves once backups settle, and daily). */
  copyOffsiteNow(): Promise<AppState>;
  /** Fills the disk in use (a new one, after the old one died) from the offsite copy, then checks it. */
  rebuildFromCopy(): Promise<AppState>;

  /** Runs restic from this path (null: the one on PATH); refused when it is not a restic that runs. */
  setResticPath(input: { path: string | null }): Promise<AppState>;
  /** Keeps the computer's encryption password on this desktop once restic opened its backups with it; a wrong one is refused. */
  keepPassword(input: { username: string; password: string }): Promise<AppState>;
  /** The kept encryption password itself, for whoever asks on this desktop (the page asks first). */
  showPassword(input: { username: string }): Promise<{ password: string }>;
  forgetPassword(input: { username: string }): Promise<AppState>;
  /** Which snapshots a policy (the default when left out) would keep and remove, asked of restic with the kept password; nothing is removed. */
  previewRetention(input: { username: string; policy?: RetentionPolicy }): Promise<RetentionPreview>;

  /** Adds or changes a channel for messages to the family's admin (e-mail, ntfy, a webhook, a computer's ping address). */
  saveChannel(input: ChannelInput): Promise<AppState>;
  removeChannel(input: { id: string }): Promise<AppState>;
  /** Sends a test message through a saved channel now and says what happened. */
  testChannel(input: { id: string }): Promise<ChannelTest>;
  /** A computer's backups, newest first (needs its kept password). */
  listSnapshots(input: { username: string }): Promise<SnapshotView[]>;
  /** One page of a folder inside a backup. */
  browseSnapshot(input: { username: string; snapshotId: string; path: string; offset?: number }): Promise<SnapshotFolder>;
  /** Every version of files whose name contains `name`, across all of a computer's backups. */
  searchBackups(input: { username: string; name: string }): Promise<SearchResult>;
  /** Starts a download: in the desktop app after a save dialog (null: cancelled there); in headless mode it waits for the browser to fetch it. */
  startDownload(input: { username: string; snapshotId: string; path: string; format: DownloadFormat }): Promise<TransferView | null>;
  /** Restores a folder (or file) of a backup into a folder on this desktop; files already there stay unless `replace`. */
  restoreFolder(input: { username: string; snapshotId: string; path: string; target: string; replace: boolean }): Promise<TransferView>;
  transfer(input: { id: string }): Promise<TransferView>;
  /** Stops a download or restore (restic stops; nothing half-done is left in the folder). */
  cancelTransfer(input: { id: string }): Promise<TransferView>;
  /** The emergency sheet, with every kept password in it (the page asks first). */
  emergencySheet(): Promise<EmergencySheet>;
  /** The computer's retention policy from now on (the weekly run uses it). */
  setRetentionPolicy(input: { username: string; policy: RetentionPolicy }): Promise<AppState>;
  /** Removes the old backups the policy does not keep and frees their space now (forget --prune); the state shows it running, then its outcome. */
  runRetention(input: { username: string }): Promise<AppState>;
  /** Runs this month's restic check now (a twelfth of the data read); the state shows it running, then its outcome. */
  checkBackups(input: { username: string }): Promise<AppState>;
}

export type MethodName = keyof Api;
export type MethodInput<M extends MethodName> = Parameters<Api[M]> extends [infer I] ? I : undefined;
export type MethodResult<M extends MethodName> = Awaited<ReturnType<Api[M]>>;

export interface ApiEvents {
  state: AppState;
  requests: LogEntry[];
  summary: Summary;
  notification: Notification;
}
export type EventName = keyof ApiEvents;

/** What the renderer sees as `window.api`. */
export type RendererApi = Api & {
  on<E extends EventName>(event: E, listener: (payload: ApiEvents[E]) => void): () => void;
};

/** Every method once: the compiler refuses a missing or unknown name. */
const methodNames = {
  getState: true,
  startServer: true,
  stopServer: true,
  updateSettings: true,
  dismissNotice: true,
  newGuiAddress: true,
  listDrives: true,
  browseFolder: true,
  createFolder: true,
  pickFolder: true,
  chooseFolder: true,
  forgetDisk: true,
  renameDisk: true,
  ejectDisk: true,
  addComputer: true,
  removeComputer: true,
  resetPassword: true,
  renameComputer: true,
  updateComputer: true,
  createMaintenanceLogin: true,
  removeMaintenanceLogin: true,
  commandLines: true,
  setTls: true,
  caCertificate: true,
  regenerateCertificates: true,
  importCertificate: true,
  useHouseholdCertificate: true,
  recentRequests: true,
  recentSummaries: true,
  checkIntegrity: true,
  markRepaired: true,
  setOffsite: true,
  sftpHostKey: true,
  setOffsiteSftp: true,
  setOffsiteS3: true,
  connectComputer: true,
  setupFile: true,
  repairLine: true,
  newLaptopLine: true,
  removeOffsite: true,
  copyOffsiteNow: true,
  rebuildFromCopy: true,
  setResticPath: true,
  keepPassword: true,
  showPassword: true,
  forgetPassword: true,
  previewRetention: true,
  saveChannel: true,
  removeChannel: true,
  testChannel: true,
  listSnapshots: true,
  browseSnapshot: true,
  searchBackups: true,
  startDownload: true,
  restoreFolder: true,
  transfer: true,
  cancelTransfer: true,
  emergencySheet: true,
  setRetentionPolicy: true,
  runRetention: true,
  checkBackups: true,
} satisfies Record<MethodName, true>;
export const METHODS = Object.keys(methodNames) as MethodName[];

const eventNames = { state: true, requests: true, summary: true, notification: true } satisfies Record<EventName, true>;
export const EVENTS = Object.keys(eventNames) as EventName[];
