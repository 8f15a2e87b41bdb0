import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildCommandLines, PASSWORD_PLACEHOLDER, repositoryUrl, type CommandFacts } from '../../../../main/control/core/command-lines.js';
import { SHELLS } from '../../../../main/control/core/shell-quote.js';

const facts: CommandFacts = {
  os: 'linux',
  resticVersion: 'before-0.17',
  serverUrl: 'https://192.168.1.20:8000/',
  username: 'annas-laptop',
  password: 'Abc123-xyz789-QWErty-456uio',
  displayName: "Anna's laptop",
  repoPath: '/annas-laptop/',
  caFileName: 'restic-tray-server-ca.pem',
  backupPaths: [],
  appendOnly: false,
};

const TRICKY = [
  'plain',
  "it's",
  'double "quoted"',
  'dollar $HOME and ${PATH} and $(id) and `id`',
  'bang! history !!',
  'semi; amp & pipe | lt < gt > hash # tilde ~',
  'back\\slash and \\n',
  'percent %USERPROFILE% 100%',
  'glob * ? [a] {b,c}',
  'unicode ‘curly’ “quotes” é ß 中',
  '  leading and trailing spaces  ',
  '',
];

describe('shell quoting', () => {
  it.each(TRICKY)('bash reads %j back exactly', (value) => {
    const result = spawnSync('bash', ['-c', `printf %s ${SHELLS.bash.quote(value)}`], { encoding: 'utf8' });
    expect(result.stdout).toBe(value);
  });

  it.each([
    ['plain', "'plain'"],
    ["it's", "'it''s'"],
    ['‘curly’', "'‘‘curly’’'"],
    ['$env:HOME `n "x"', `'$env:HOME \`n "x"'`],
  ])('PowerShell quotes %j as %s', (value, quoted) => {
    expect(SHELLS.powershell.quote(value)).toBe(quoted);
  });

  it.each([
    ['plain', 'set "X=plain"'],
    ['100%', 'set "X=100%%"'],
    ['a&b|c<d>e^f!g', 'set "X=a&b|c<d>e^f!g"'],
    ['%PATH%', 'set "X=%%PATH%%"'],
    ['say "hi"', undefined],
  ])('cmd sets %j as %s in a .cmd file', (value, line) => {
    expect(SHELLS.cmd.setVariable('X', value)).toBe(line);
  });

  it('cmd comments drop what cmd could read as an operator', () => {
    expect(SHELLS.cmd.comment('Anna & Bob | 100% <x> "y" ^z!')).toBe('rem Anna  Bob  100 x y z');
  });
});

describe('the repository address', () => {
  it.each(TRICKY.filter((value) => value !== ''))('carries the password %j so that restic (a URL parser) reads it back', (password) => {
    const url = new URL(repositoryUrl({ ...facts, password }, true).slice('rest:'.length));
    expect(decodeURIComponent(url.password)).toBe(password);
    expect(url.username).toBe('annas-laptop');
    expect(url.host).toBe('192.168.1.20:8000');
    expect(url.pathname).toBe('/annas-laptop/');
  });

  it('keeps an IPv6 host in brackets and leaves the login out when asked', () => {
    expect(repositoryUrl({ ...facts, serverUrl: 'https://[fd00::5]:8000/' }, false)).toBe('rest:https://[fd00::5]:8000/annas-laptop/');
    expect(repositoryUrl({ ...facts, password: undefined }, true)).toBe(`rest:https://annas-laptop:${PASSWORD_PLACEHOLDER}@192.168.1.20:8000/annas-laptop/`);
  });
});

describe('command sets', () => {
  const cases: [string, Partial<CommandFacts>, string, string][] = [
    ['bash, before 0.17', {}, `export RESTIC_REPOSITORY='rest:https://annas-laptop:Abc123-xyz789-QWErty-456uio@192.168.1.20:8000/annas-laptop/'`, `restic backup "$HOME" --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"`],
    [
      'bash, 0.17',
      { resticVersion: '0.17-or-newer' },
      `export RESTIC_REPOSITORY='rest:https://192.168.1.20:8000/annas-laptop/'\nexport RESTIC_REST_USERNAME='annas-laptop'\nexport RESTIC_REST_PASSWORD='Abc123-xyz789-QWErty-456uio'`,
      `restic backup "$HOME" --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"`,
    ],
    ['bash, no TLS, chosen paths', { caFileName: null, serverUrl: 'http://192.168.1.20:8000/', backupPaths: ['/home/anna/My Photos', "/srv/it's"] }, `export RESTIC_REPOSITORY='rest:http://annas-laptop:Abc123-xyz789-QWErty-456uio@192.168.1.20:8000/annas-laptop/'`, `restic backup '/home/anna/My Photos' '/srv/it'\\''s'`],
    [
      'PowerShell, 0.17',
      { os: 'windows', resticVersion: '0.17-or-newer', password: "o'neil" },
      `$env:RESTIC_REPOSITORY = 'rest:https://192.168.1.20:8000/annas-laptop/'\n$env:RESTIC_REST_USERNAME = 'annas-laptop'\n$env:RESTIC_REST_PASSWORD = 'o''neil'`,
      `restic backup "$env:USERPROFILE" --cacert "$env:USERPROFILE\\restic\\restic-tray-server-ca.pem"`,
    ],
    ['PowerShell, chosen paths', { os: 'windows', backupPaths: ['D:\\Photos'] }, `$env:RESTIC_REPOSITORY = 'rest:https://annas-laptop:Abc123-xyz789-QWErty-456uio@192.168.1.20:8000/annas-laptop/'`, `restic backup 'D:\\Photos' --cacert "$env:USERPROFILE\\restic\\restic-tray-server-ca.pem"`],
    ['cmd', { os: 'windows', shell: 'cmd' }, `call "%USERPROFILE%\\restic\\restic-tray-server.cmd"`, `restic backup "%USERPROFILE%" --cacert "%USERPROFILE%\\restic\\restic-tray-server-ca.pem"`],
    ['macOS', { os: 'macos' }, `export RESTIC_REPOSITORY='rest:https://annas-laptop:Abc123-xyz789-QWErty-456uio@192.168.1.20:8000/annas-laptop/'`, `restic backup "$HOME" --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"`],
  ];

  it.each(cases)('%s', (_, change, variables, backup) => {
    const set = buildCommandLines({ ...facts, ...change });
    expect(set.setup.split('\n').slice(1).join('\n')).toBe(variables);
    expect(set.commands.backup.command).toBe(backup);
    expect(set.commands.init.command.startsWith('restic init')).toBe(true);
    expect(set.commands.snapshots.command.startsWith('restic snapshots')).toBe(true);
    expect(set.commands.restore.command.startsWith('restic restore latest --target ')).toBe(true);
    expect(set.secrets.serverLogin).toContain('annas-laptop');
    expect(set.secrets.encryptionPassword).toMatch(/server never sees it/);
    expect(set.caFileName).toBe(change.caFileName === null ? null : 'restic-tray-server-ca.pem');
  });

  it('uses the shell of the system unless told', () => {
    expect(buildCommandLines({ ...facts, os: 'windows' }).shell).toBe('powershell');
    expect(buildCommandLines({ ...facts, os: 'macos' }).shell).toBe('bash');
    expect(buildCommandLines({ ...facts, os: 'windows', shell: 'cmd' }).shell).toBe('cmd');
  });

  it('falls back to the login in the address where cmd cannot carry the password, and says so', () => {
    const set = buildCommandLines({ ...facts, os: 'windows', shell: 'cmd', resticVersion: '0.17-or-newer', password: 'say "hi" 100%' });
    expect(set.envFile.content).toContain('set "RESTIC_REPOSITORY=rest:https://annas-laptop:say%%20%%22hi%%22%%20100%%25@192.168.1.20:8000/annas-laptop/"\r\n');
    expect(set.envFile.content).not.toContain('RESTIC_REST_PASSWORD');
    expect(set.notes[0]).toMatch(/cmd cannot carry this password/);
  });

  it('shows a placeholder instead of a password it no longer knows', () => {
    const set = buildCommandLines({ ...facts, password: undefined, resticVersion: '0.17-or-newer' });
    expect(set.setup).toContain(`export RESTIC_REST_PASSWORD='${PASSWORD_PLACEHOLDER}'`);
  });

  it('schedules with a systemd timer (and cron) on Linux, cron on macOS and the Task Scheduler on Windows', () => {
    const linux = buildCommandLines(facts).schedule;
    expect(linux.files.map((file) => file.fileName)).toEqual(['restic-tray-server-backup.sh', 'restic-tray-server-backup.service', 'restic-tray-server-backup.timer']);
    expect(linux.files[2]?.content).toContain('OnCalendar=*-*-* 12:30:00');
    expect(linux.usage).toContain('crontab -e: 30 12 * * * bash "$HOME/.config/restic/restic-tray-server-backup.sh"');
    expect(buildCommandLines({ ...facts, os: 'macos' }).schedule.files.map((file) => file.fileName)).toEqual(['restic-tray-server-backup.sh']);
    const windows = buildCommandLines({ ...facts, os: 'windows' }).schedule;
    expect(windows.files[1]?.content).toContain("Register-ScheduledTask -TaskName 'Restic Tray Server backup'");
    expect(buildCommandLines({ ...facts, os: 'windows', shell: 'cmd' }).schedule.usage).toContain('schtasks /Create /SC DAILY /ST 12:30');
  });

  it('repairs with the commands of the restic version, and sends append-only logins to the maintenance login', () => {
    const cacert = ' --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"';
    const older = buildCommandLines(facts).repair;
    expect(older.steps.map((step) => step.command)).toEqual([`restic rebuild-index${cacert}`, `restic backup "$HOME"${cacert}`, `restic check --read-data${cacert}`]);
    expect(older.notes.join(' ')).toMatch(/restic 0\.16, run restic repair snapshots --forget/);
    const newer = buildCommandLines({ ...facts, resticVersion: '0.17-or-newer', os: 'windows' }).repair;
    expect(newer.steps.map((step) => step.command)).toEqual([
      'restic repair index --cacert "$env:USERPROFILE\\restic\\restic-tray-server-ca.pem"',
      'restic backup "$env:USERPROFILE" --cacert "$env:USERPROFILE\\restic\\restic-tray-server-ca.pem"',
      'restic repair snapshots --forget --cacert "$env:USERPROFILE\\restic\\restic-tray-server-ca.pem"',
      'restic check --read-data --cacert "$env:USERPROFILE\\restic\\restic-tray-server-ca.pem"',
    ]);
    expect(newer.notes.join(' ')).not.toMatch(/maintenance/);
    expect(buildCommandLines({ ...facts, appendOnly: true }).repair.notes.join(' ')).toMatch(/append-only.*maintenance login/);
  });

  it('gives the maintenance login only what it is for: forget and prune, check, a new index; no repository made, no backup, no schedule', () => {
    expect(buildCommandLines(facts).maintenance).toBeNull();
    const older = buildCommandLines({ ...facts, username: 'maintenance', maintenance: true });
    expect(older.maintenance?.map((line) => line.command)).toEqual([
      'restic forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"',
      'restic check --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"',
      'restic rebuild-index --cacert "$HOME/.config/restic/restic-tray-server-ca.pem"',
    ]);
    expect(older.maintenance?.map((line) => line.label).join(' ')).not.toMatch(/Create the repository|Back up/);
    expect(buildCommandLines({ ...facts, maintenance: true, resticVersion: '0.17-or-newer' }).maintenance?.[2]?.command).toMatch(/^restic repair index /);
    expect(older.secrets.serverLogin).toMatch(/reaches every computer’s backups and may delete them/);
    // The maintenance login is no computer's own, and restic-tray-backup (the computer's own command) is not its way.
    expect(Object.values(older.secrets).join(' ')).not.toMatch(/this computer|its own/i);
    expect(buildCommandLines({ ...facts, username: 'maintenance', maintenance: true, setUpByLine: true }).installed).toBeNull();
  });

  it('reads the backups from the offsite copy with restic’s own back-ends: a folder, sftp: from the rclone remote, s3: with the storage’s keys, or rclone:', () => {
    expect(buildCommandLines(facts).fromCopy).toBeNull();
    const steps = (copy: NonNullable<CommandFacts['copy']>, os: 'linux' | 'windows' = 'linux') => buildCommandLines({ ...facts, os, copy }).fromCopy?.steps.map((step) => step.command);
    expect(steps({ kind: 'folder', path: '/media/work-disk/copy' })).toEqual([
      "export RESTIC_REPOSITORY='/media/work-disk/copy/annas-laptop'",
      'restic snapshots',
      'restic restore latest --target "$HOME/restic-restore"',
    ]);
    expect(steps({ kind: 'sftp', user: 'anna', host: 'grandma.example', port: 2222, path: '/srv/copies' })?.[0]).toBe("export RESTIC_REPOSITORY='sftp://anna@grandma.example:2222//srv/copies/annas-laptop'");
    expect(steps({ kind: 'sftp', user: null, host: 'fd00::5', port: null, path: 'copies/' })?.[0]).toBe("export RESTIC_REPOSITORY='sftp://[fd00::5]/copies/annas-laptop'");
    expect(steps({ kind: 'rclone', remote: 'b2:family-backups' }, 'windows')?.[0]).toBe("$env:RESTIC_REPOSITORY = 'rclone:b2:family-backups/annas-laptop'");
    expect(buildCommandLines({ ...facts, copy: { kind: 'rclone', remote: 'b2:' } }).fromCopy?.notes.join(' ')).toMatch(/needs rclone, with the same remote/);
    expect(steps({ kind: 's3', url: 'https://s3.eu-central-1.wasabisys.com/family/copy', accessKeyId: 'KEYID', region: 'eu-central-1' }, 'windows')?.slice(0, 2)).toEqual([
      "$env:RESTIC_REPOSITORY = 's3:https://s3.eu-central-1.wasabisys.com/family/copy/annas-laptop'",
      "$env:AWS_ACCESS_KEY_ID = 'KEYID'\n$env:AWS_SECRET_ACCESS_KEY = 'PASTE-THE-SECRET-KEY-HERE'\n$env:AWS_DEFAULT_REGION = 'eu-central-1'",
    ]);
    expect(buildCommandLines({ ...facts, copy: { kind: 's3', url: 'https://s3.amazonaws.com/family', accessKeyId: null, region: null } }).fromCopy?.notes.join(' ')).toMatch(/secret key in place of PASTE-THE-SECRET-KEY-HERE/);
  });

  it('keeps the display name from breaking out of a comment', () => {
    const set = buildCommandLines({ ...facts, displayName: 'Evil\nrm -rf ~' });
    expect(set.setup.split('\n')[0]).toBe('# Restic Tray Server: backups of Evil rm -rf ~');
  });
});
