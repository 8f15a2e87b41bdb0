import type { CommandLine, CommandSet, OperatingSystem, ResticVersion, Shell } from '../../contract.js';
import { SHELLS, type ShellSyntax } from './shell-quote.js';

export interface CommandFacts {
  os: OperatingSystem;
  shell?: Shell;
  resticVersion: ResticVersion;
  /** Where clients reach the server, e.g. `https://192.168.1.20:8000`. */
  serverUrl: string;
  username: string;
  /** The server login's password when it was just made; otherwise a placeholder stands in. */
  password?: string;
  displayName: string;
  /** The repository's path on the server, `/annas-laptop/`. */
  repoPath: string;
  /** The authority file's name when TLS is on. */
  caFileName: string | null;
  /** What to back up; the user's home folder when empty. */
  backupPaths: string[];
  /** The login may not delete (append-only): repairs need the maintenance login. */
  appendOnly: boolean;
  /** The maintenance login, looking after this computer's backups: it never creates or backs up. */
  maintenance?: boolean;
  /** Where the offsite copy is, when there is one. */
  copy?: CopyLocation | null;
  /** The set-up line installed `restic-tray-backup` there, with the server, the login and the encryption password. */
  setUpByLine?: boolean;
}

/** Where the offsite copy of every repository is, as restic on a computer reaches it. */
export type CopyLocation =
  | { kind: 'folder'; path: string }
  | { kind: 'sftp'; user: string | null; host: string; port: number | null; path: string }
  /** `url` is the service's address with the bucket and folder, `https://s3.eu-central-1.wasabisys.com/bucket/folder`. */
  | { kind: 's3'; url: string; accessKeyId: string | null; region: string | null }
  | { kind: 'rclone'; remote: string };

export const PASSWORD_PLACEHOLDER = 'PASTE-THE-SERVER-LOGIN-PASSWORD-HERE';
export const SECRET_KEY_PLACEHOLDER = 'PASTE-THE-SECRET-KEY-HERE';
const ENV_FILE = { bash: 'restic-tray-server.env', powershell: 'restic-tray-server.ps1', cmd: 'restic-tray-server.cmd' } as const;
const BACKUP_SCRIPT = { bash: 'restic-tray-server-backup.sh', powershell: 'restic-tray-server-backup.ps1', cmd: 'restic-tray-server-backup.cmd' } as const;
const PASSWORD_FILE = 'restic-password.txt';
/** Where a restore goes: a new folder in the home folder. */
const RESTORE_TARGET = { bash: `"$HOME/restic-restore"`, powershell: `"$env:USERPROFILE\\restic-restore"`, cmd: `"%USERPROFILE%\\restic-restore"` } as const;

export const defaultShell = (os: OperatingSystem): Shell => (os === 'windows' ? 'powershell' : 'bash');

/** Percent-encodes a user name or password for the user-info part of a URL (RFC 3986: only unreserved characters stay). */
const encodeUserInfo = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The repository address, with the login inside it (`rest:https://user:pass@host/path/`) or without. */
export function repositoryUrl(facts: CommandFacts, withLogin: boolean): string {
  const url = new URL(facts.repoPath, facts.serverUrl);
  const base = `${url.protocol}//${url.host}${url.pathname}`;
  if (!withLogin) return `rest:${base}`;
  const login = `${encodeUserInfo(facts.username)}:${encodeUserInfo(facts.password ?? PASSWORD_PLACEHOLDER)}`;
  return `rest:${url.protocol}//${login}@${url.host}${url.pathname}`;
}

/** Lines that set the repository and login; the 0.17 form falls back to the URL form where the shell cannot carry the password. */
function variableLines(facts: CommandFacts, syntax: ShellSyntax): { lines: string[]; notes: string[] } {
  if (facts.resticVersion === '0.17-or-newer') {
    const lines = [
      syntax.setVariable('RESTIC_REPOSITORY', repositoryUrl(facts, false)),
      syntax.setVariable('RESTIC_REST_USERNAME', facts.username),
      syntax.setVariable('RESTIC_REST_PASSWORD', facts.password ?? PASSWORD_PLACEHOLDER),
    ];
    if (lines.every((line) => line !== undefined)) return { lines, notes: [] };
  }
  const line = syntax.setVariable('RESTIC_REPOSITORY', repositoryUrl(facts, true)) as string;
  const notes =
    facts.resticVersion === '0.17-or-newer'
      ? ['cmd cannot carry this password in a variable, so the login is written inside the repository address (this works with every restic version).']
      : [];
  return { lines: [line], notes };
}

/** init, backup, snapshots and restore for one computer, plus a settings file and a schedule, in the shell of its system. */
export function buildCommandLines(facts: CommandFacts): CommandSet {
  const syntax = SHELLS[facts.shell ?? defaultShell(facts.os)];
  const { shell } = syntax;
  const caFileName = facts.caFileName;
  const cacert = caFileName ? ` --cacert ${syntax.inFolder(caFileName)}` : '';
  const paths = facts.backupPaths.length > 0 ? facts.backupPaths.map((path) => syntax.quote(path)).join(' ') : syntax.home;
  const restoreTarget = RESTORE_TARGET[shell];
  const command = (label: string, args: string): CommandLine => ({ label, command: `restic ${args}${cacert}` });
  const commands = {
    init: command('Create the repository (once; restic asks you to choose the backup encryption password)', 'init'),
    backup: command('Back up', `backup ${paths}`),
    snapshots: command('List the backups', 'snapshots'),
    restore: command('Restore the latest backup into a new folder', `restore latest --target ${restoreTarget}`),
    forget: command(
      'Keep 7 daily, 5 weekly and 12 monthly backups and remove the rest (refused while append-only is on, except for the maintenance login)',
      'forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune',
    ),
  };
  const { lines, notes } = variableLines(facts, syntax);
  const header = syntax.comment(`Restic Tray Server: backups of ${facts.displayName.replace(/\p{Cc}/gu, ' ')}`);
  const envFileName = ENV_FILE[shell];
  const envContent = [
    ...(shell === 'cmd' ? ['@echo off'] : []),
    header,
    ...lines,
    syntax.comment('For runs without a prompt: the backup encryption password, alone in this file.'),
    syntax.setPath('RESTIC_PASSWORD_FILE', syntax.inFolder(PASSWORD_FILE)),
    '',
  ].join(shell === 'cmd' ? '\r\n' : '\n');
  return {
    shell,
    secrets: facts.maintenance
      ? {
          serverLogin: `Server login: the user name ${facts.username} and its password, made in Security. It reaches every computer’s backups and may delete them: keep it off the family computers. It is shown once; if it is lost, reset it in Security.`,
          encryptionPassword: 'Backup encryption password: the one chosen for these backups when their computer was set up; restic asks for it.',
        }
      : {
          serverLogin: `Server login: the user name ${facts.username} and the password made by Restic Tray Server for this computer. It lets this computer reach its own backups on the server. It is shown once; if it is lost, reset it in the app.`,
          encryptionPassword:
            'Backup encryption password: you choose it when you run restic init on this computer. It encrypts the backups before they leave the computer; the server never sees it. Only your family knows it: without it nobody can restore, not even you. Write it down somewhere safe.',
        },
    // cmd reads `%%` only inside a .cmd file, so there the settings file is the set-up.
    setup: shell === 'cmd' ? [header, syntax.load(envFileName)].join('\n') : [header, ...lines].join('\n'),
    commands,
    envFile: {
      fileName: envFileName,
      content: envContent,
      usage: `Save this as ${syntax.inFolder(envFileName)} (readable only by you), put the backup encryption password alone in ${syntax.inFolder(PASSWORD_FILE)}, then load it before restic commands: ${syntax.load(envFileName)}`,
    },
    schedule: schedule(facts.os, syntax, envFileName, commands.backup.command),
    repair: repair(facts, command, commands.backup),
    installed: facts.setUpByLine && !facts.maintenance ? installed(facts) : null,
    maintenance: facts.maintenance ? maintenance(facts, command) : null,
    fromCopy: facts.copy ? fromCopy(facts, syntax, facts.copy) : null,
    caFileName,
    notes: [
      ...notes,
      ...(shell === 'cmd' ? [`Save the settings file below as ${syntax.inFolder(envFileName)} first: the set-up line loads it.`] : []),
      ...(caFileName ? [`Save the authority file as ${syntax.inFolder(caFileName)}: restic uses it to check that it talks to your server.`] : []),
    ],
  };
}

/**
 * What `restic-tray-backup`, installed by the set-up line, does: the same
 * words on every system (the line put it on the PATH), nothing to fill in.
 */
function installed(facts: CommandFacts): NonNullable<CommandSet['installed']> {
  const line = (label: string, args: string): CommandLine => ({ label, command: `restic-tray-backup ${args}` });
  const windows = facts.os === 'windows';
  return {
    commands: [
      line('When it last backed up, and when it backs up next', 'status'),
      line('Back up now', 'backup'),
      line('List the backups', 'snapshots'),
      line('Restore the latest backup into a new dated folder in your home folder (nothing is overwritten)', 'restore'),
      line('Restore only one folder (here Documents, in the folder a new terminal opens in); a snapshot’s ID first picks an older backup, --target a new folder', 'restore latest Documents'),
      line('Look for files in every backup', 'find "*.pdf"'),
      ...(windows ? [] : [line('Browse the backups as a folder, until Ctrl-C (needs FUSE; it says so when it is missing)', 'mount ~/backups')]),
      line('Check the backups', 'check'),
    ],
    notes: [
      `These use what the set-up line installed on ${facts.displayName}: the server’s address, its login and certificate, and the encryption password are there already.`,
      ...(windows ? ['Windows cannot show the backups as a folder: restore them, or find a file first.'] : []),
    ],
  };
}

/**
 * Repairing a repository whose damaged files the integrity check moved
 * aside: an index without them, a backup that uploads again what they held
 * (where it is still on the computer), then a full check. restic 0.14 and
 * 0.15 call the first step rebuild-index (0.16 still knows that name).
 */
function repair(facts: CommandFacts, command: (label: string, args: string) => CommandLine, backup: CommandLine): CommandSet['repair'] {
  const newer = facts.resticVersion === '0.17-or-newer';
  const steps = [
    newer
      ? command('1. Make a new index without the damaged files', 'repair index')
      : command('1. Make a new index without the damaged files (restic 0.14 to 0.16)', 'rebuild-index'),
    { label: '2. Back up again: what the damaged files held is uploaded again, where it is still on this computer', command: backup.command },
    ...(newer ? [command('3. Remove from the snapshots what cannot come back (it was only in the damaged files)', 'repair snapshots --forget')] : []),
    command(`${newer ? 4 : 3}. Check every file of the backups`, 'check --read-data'),
  ];
  const notes = [
    newer
      ? 'If the check still names damaged files, tell us: the integrity check should have found them first.'
      : 'If the check then names snapshots that need data that is gone (it was only in the damaged files and is no longer on this computer): with restic 0.16, run restic repair snapshots --forget; with 0.14 or 0.15, remove those snapshots with restic forget and their IDs.',
    ...(facts.appendOnly
      ? ['This computer’s login is append-only: the server refuses the deletions these steps make. Run them with the maintenance login instead (Security makes its commands for this computer).']
      : []),
  ];
  return { steps, notes };
}

/** What the maintenance login is for: removing old backups, checking them, and a new index after a repair. */
function maintenance(facts: CommandFacts, command: (label: string, args: string) => CommandLine): CommandLine[] {
  return [
    command('Keep 7 daily, 5 weekly and 12 monthly backups and remove the rest (forget and prune)', 'forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune'),
    command('Check the backups (add --read-data to read every file too, which takes much longer)', 'check'),
    facts.resticVersion === '0.17-or-newer'
      ? command('Make a new index, after the integrity check moved damaged files aside', 'repair index')
      : command('Make a new index, after the integrity check moved damaged files aside (restic 0.14 to 0.16)', 'rebuild-index'),
  ];
}

/**
 * The same backups read from the offsite copy, when the backup disk or this
 * server is gone: restic's own back-ends (a folder, sftp:, or rclone: for
 * the rest). The encryption password is the computer's own; there is no
 * server login and no authority file.
 */
function fromCopy(facts: CommandFacts, syntax: ShellSyntax, copy: CopyLocation): NonNullable<CommandSet['fromCopy']> {
  const repo = facts.repoPath.replace(/^\/|\/$/g, '');
  const inFolder = (base: string) => (base.endsWith('/') || base.endsWith(':') ? `${base}${repo}` : `${base}/${repo}`);
  let repository: string;
  const notes: string[] = [];
  const keys: string[] = [];
  if (copy.kind === 'folder') {
    repository = inFolder(copy.path);
    notes.push('Run these where the copy’s folder is reachable (on this desktop, or wherever that disk is plugged in).');
  } else if (copy.kind === 'sftp') {
    const where = `${copy.user ? `${copy.user}@` : ''}${copy.host.includes(':') ? `[${copy.host}]` : copy.host}${copy.port ? `:${copy.port}` : ''}`;
    repository = `sftp://${where}/${inFolder(copy.path)}`;
    notes.push(`This computer logs in to ${copy.host} over SSH to read the copy: it needs a key or password that that computer accepts.`);
  } else if (copy.kind === 's3') {
    repository = `s3:${inFolder(copy.url)}`;
    keys.push(
      ...[
        syntax.setVariable('AWS_ACCESS_KEY_ID', copy.accessKeyId ?? 'PASTE-THE-KEY-ID-HERE'),
        syntax.setVariable('AWS_SECRET_ACCESS_KEY', SECRET_KEY_PLACEHOLDER),
        ...(copy.region ? [syntax.setVariable('AWS_DEFAULT_REGION', copy.region)] : []),
      ].filter((line) => line !== undefined),
    );
    notes.push(`Put the storage’s secret key in place of ${SECRET_KEY_PLACEHOLDER}: the one given when the copy was set up (the app does not show it again).`);
  } else {
    repository = `rclone:${inFolder(copy.remote)}`;
    notes.push('This computer needs rclone, with the same remote in its rclone configuration (copy the configuration file from the desktop).');
  }
  const set = syntax.setVariable('RESTIC_REPOSITORY', repository) as string;
  const restoreTarget = RESTORE_TARGET[syntax.shell];
  return {
    steps: [
      { label: 'Point restic at the copy (in a new terminal)', command: set },
      ...(keys.length > 0 ? [{ label: 'Give restic the storage’s keys', command: keys.join('\n') }] : []),
      { label: 'List the backups on the copy', command: 'restic snapshots' },
      { label: 'Restore the latest backup from the copy into a new folder', command: `restic restore latest --target ${restoreTarget}` },
    ],
    notes: [...notes, 'restic asks for this computer’s backup encryption password: the copy holds the same encrypted backups.'],
  };
}

function schedule(os: OperatingSystem, syntax: ShellSyntax, envFileName: string, backup: string): CommandSet['schedule'] {
  const scriptName = BACKUP_SCRIPT[syntax.shell];
  if (syntax.shell === 'bash') {
    const script = { fileName: scriptName, content: `#!/usr/bin/env bash\nset -euo pipefail\n${syntax.load(envFileName)}\n${backup}\n` };
    const cron = `30 12 * * * bash ${syntax.inFolder(scriptName)}`;
    if (os === 'linux') {
      return {
        label: 'Every day at 12:30 (a systemd user timer; or cron)',
        files: [
          script,
          {
            fileName: 'restic-tray-server-backup.service',
            content: `[Unit]\nDescription=restic backup to Restic Tray Server\n\n[Service]\nType=oneshot\nExecStart=/usr/bin/env bash %h/.config/restic/${scriptName}\n`,
          },
          {
            fileName: 'restic-tray-server-backup.timer',
            content: `[Unit]\nDescription=Daily restic backup to Restic Tray Server\n\n[Timer]\nOnCalendar=*-*-* 12:30:00\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`,
          },
        ],
        usage: `Save the script in ~/.config/restic/, the .service and .timer files in ~/.config/systemd/user/, then run: systemctl --user daemon-reload && systemctl --user enable --now restic-tray-server-backup.timer. Without systemd, add this line with crontab -e: ${cron}`,
      };
    }
    return {
      label: 'Every day at 12:30 (cron)',
      files: [script],
      usage: `Save the script in ~/.config/restic/, then add this line with crontab -e: ${cron}`,
    };
  }
  if (syntax.shell === 'powershell') {
    const scriptPath = syntax.inFolder(scriptName);
    return {
      label: 'Every day at 12:30 (Windows Task Scheduler)',
      files: [
        { fileName: scriptName, content: `$ErrorActionPreference = 'Stop'\r\n${syntax.load(envFileName)}\r\n${backup}\r\n` },
        {
          fileName: 'register-backup-task.ps1',
          content: [
            `$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -ExecutionPolicy Bypass -File "' + ${scriptPath} + '"')`,
            `$trigger = New-ScheduledTaskTrigger -Daily -At '12:30'`,
            `Register-ScheduledTask -TaskName 'Restic Tray Server backup' -Action $action -Trigger $trigger`,
            '',
          ].join('\r\n'),
        },
      ],
      usage: `Save the backup script as ${scriptPath}, then run the lines of register-backup-task.ps1 once in PowerShell.`,
    };
  }
  const scriptPath = syntax.inFolder(scriptName);
  return {
    label: 'Every day at 12:30 (Windows Task Scheduler)',
    files: [{ fileName: scriptName, content: `@echo off\r\n${syntax.load(envFileName)}\r\n${backup}\r\n` }],
    usage: `Save the script as ${scriptPath}, then run once in a Command Prompt: schtasks /Create /SC DAILY /ST 12:30 /TN "Restic Tray Server backup" /TR "\\"%USERPROFILE%\\restic\\${scriptName}\\""`,
  };
}
