import { describe, expect, it } from 'vitest';
import type { AppState, Notification } from '../../../main/contract.js';
import { describeStatus, type StatusFacts } from '../../../main/control/core/status.js';
import { notificationsFor, trayModel } from '../../../main/control/tray-model.js';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const GB = 1e9;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY);

const serving: StatusFacts = {
  phase: 'serving',
  clientUrl: 'https://192.168.1.20:8000/',
  computers: [{ username: 'anna', displayName: "Anna's laptop", createdAt: ago(30), lastBackupAt: ago(0.5) }],
  staleDays: 3,
  disk: { totalBytes: 1000 * GB, freeBytes: 600 * GB },
  refusedForSpace: false,
  rotation: [],
  certificateNotAfter: new Date(NOW.getTime() + 300 * DAY),
  damaged: [],
  offsite: null,
  failingChannels: [],
  care: [],
  now: NOW,
};

type Row = [string, Partial<StatusFacts>, AppState['status'], AppState['colour'], string];

const rows: Row[] = [
  ['stopped', { phase: 'stopped' }, 'stopped', 'grey', 'The backup server is stopped.'],
  ['starting', { phase: 'starting' }, 'starting', 'grey', 'The backup server is starting.'],
  ['serving, all fresh', {}, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  ['serving, no computer yet', { computers: [] }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/. Add a computer to start backing up.'],
  ['error', { phase: 'error', error: 'Port 8000 is already used.' }, 'error', 'red', 'The backup server cannot run: Port 8000 is already used.'],
  ['disk missing', { phase: 'disk-missing', diskLabel: 'Backup A' }, 'disk-missing', 'red', 'The backup disk “Backup A” is not connected. Plug it in: backups resume by themselves.'],
  [
    'a computer stale for 5 days',
    { computers: [{ username: 'anna', displayName: "Anna's laptop", createdAt: ago(30), lastBackupAt: ago(5.2) }] },
    'attention',
    'yellow',
    "Anna's laptop has not backed up for 5 days.",
  ],
  ['exactly at the threshold is still fresh', { computers: [{ username: 'a', displayName: 'A', createdAt: ago(30), lastBackupAt: ago(3) }] }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  ['a new computer that never backed up is not stale for a while, and not up to date either', { computers: [{ username: 'a', displayName: 'A', createdAt: ago(1), lastBackupAt: null }] }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; 1 computer not connected yet.'],
  [
    'right after set-up: two computers, neither connected',
    { computers: [{ username: 'a', displayName: 'A', createdAt: ago(0), lastBackupAt: null }, { username: 'b', displayName: 'B', createdAt: ago(0), lastBackupAt: null }] },
    'serving',
    'green',
    'Serving backups at https://192.168.1.20:8000/; 2 computers not connected yet.',
  ],
  [
    'one computer backs up, two are not connected yet',
    {
      computers: [
        { username: 'a', displayName: 'A', createdAt: ago(9), lastBackupAt: ago(0.5) },
        { username: 'b', displayName: 'B', createdAt: ago(1), lastBackupAt: null },
        { username: 'c', displayName: 'C', createdAt: ago(2), lastBackupAt: null },
      ],
    },
    'serving',
    'green',
    'Serving backups at https://192.168.1.20:8000/; 1 computer up to date, 2 not connected yet.',
  ],
  [
    'two computers back up, one is not connected yet',
    {
      computers: [
        { username: 'a', displayName: 'A', createdAt: ago(9), lastBackupAt: ago(0.5) },
        { username: 'b', displayName: 'B', createdAt: ago(9), lastBackupAt: ago(1) },
        { username: 'c', displayName: 'C', createdAt: ago(2), lastBackupAt: null },
      ],
    },
    'serving',
    'green',
    'Serving backups at https://192.168.1.20:8000/; 2 computers up to date, 1 not connected yet.',
  ],
  ['not connected yet and no address yet', { clientUrl: null, computers: [{ username: 'a', displayName: 'A', createdAt: ago(1), lastBackupAt: null }] }, 'serving', 'green', 'Serving backups at this computer; 1 computer not connected yet.'],
  ['a computer that never backed up', { computers: [{ username: 'a', displayName: 'Bob', createdAt: ago(4), lastBackupAt: null }] }, 'attention', 'yellow', 'Bob has never backed up (added 4 days ago).'],
  ['a longer threshold', { staleDays: 7, computers: [{ username: 'a', displayName: 'A', createdAt: ago(30), lastBackupAt: ago(5) }] }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  ['disk 89% used', { disk: { totalBytes: 1000 * GB, freeBytes: 110 * GB } }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  ['disk 93% used', { disk: { totalBytes: 1000 * GB, freeBytes: 70 * GB } }, 'attention', 'yellow', 'The backup disk is 93% full (70 GB free).'],
  ['disk full: under 1 GB free', { disk: { totalBytes: 1000 * GB, freeBytes: 0.5 * GB } }, 'attention', 'red', 'The backup disk is full (500 MB free): backups fail. Free space on it, or keep fewer snapshots (restic forget --prune).'],
  ['disk full: a 507 was answered', { refusedForSpace: true }, 'attention', 'red', 'The backup disk is full (600 GB free): backups fail. Free space on it, or keep fewer snapshots (restic forget --prune).'],
  ['a small disk is not full at 500 MB free of 8 GB', { disk: { totalBytes: 8 * GB, freeBytes: 0.5 * GB } }, 'attention', 'yellow', 'The backup disk is 93% full (500 MB free).'],
  ['certificate expiring in 10 days', { certificateNotAfter: new Date(NOW.getTime() + 10.5 * DAY) }, 'attention', 'yellow', 'The server certificate expires in 10 days. Renew it in Security.'],
  ['certificate with 20 days left is fine', { certificateNotAfter: new Date(NOW.getTime() + 20 * DAY) }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  ['certificate expired', { certificateNotAfter: ago(1) }, 'attention', 'red', 'The server certificate has expired: computers cannot connect. Renew it in Security.'],
  ['no TLS: no certificate reason', { certificateNotAfter: null }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  [
    'damaged files await a computer’s repair',
    { damaged: [{ repo: 'anna', displayName: "Anna's laptop", unreadable: false }] },
    'attention',
    'yellow',
    "Damaged files were found in Anna's laptop’s backups and moved aside: run the repair commands on Anna's laptop (they are on its page).",
  ],
  ['an offsite copy that fails', { offsite: { problem: 'The copy’s storage is full.', lastCopyAt: ago(1), warnAfterDays: 7 } }, 'attention', 'yellow', 'The offsite copy did not work: The copy’s storage is full.'],
  ['an offsite copy 8 days old', { offsite: { problem: null, lastCopyAt: ago(8), warnAfterDays: 7 } }, 'attention', 'yellow', 'The offsite copy is 8 days old: backups since then exist only on the backup disk.'],
  [
    'a notification channel that keeps failing',
    { failingChannels: [{ id: 'a1b2', label: 'ntfy topic “family” on ntfy.sh', problem: 'ntfy answered 403: the topic needs a token.' }] },
    'attention',
    'yellow',
    'Notifications (ntfy topic “family” on ntfy.sh) keep failing: ntfy answered 403: the topic needs a token. Check them in Settings → Notifications.',
  ],
  ['an offsite copy 8 days old is fine when 14 are allowed', { offsite: { problem: null, lastCopyAt: ago(8), warnAfterDays: 14 } }, 'serving', 'green', 'Serving backups at https://192.168.1.20:8000/; every computer is up to date.'],
  [
    'read errors: the disk may be failing',
    { damaged: [{ repo: 'family/old', displayName: null, unreadable: true }] },
    'attention',
    'yellow',
    'The backup disk returned read errors during the integrity check: it may be failing. Copy the backups to another disk soon (Storage). (and 1 more)',
  ],
  [
    'several reasons: the critical one leads',
    { disk: { totalBytes: 1000 * GB, freeBytes: 0.1 * GB }, computers: [{ username: 'a', displayName: 'A', createdAt: ago(30), lastBackupAt: ago(9) }] },
    'attention',
    'red',
    'The backup disk is full (100 MB free): backups fail. Free space on it, or keep fewer snapshots (restic forget --prune). (and 1 more)',
  ],
  [
    'two stale computers',
    {
      computers: [
        { username: 'a', displayName: 'A', createdAt: ago(30), lastBackupAt: ago(4) },
        { username: 'b', displayName: 'B', createdAt: ago(30), lastBackupAt: ago(1) },
        { username: 'c', displayName: 'C', createdAt: ago(30), lastBackupAt: ago(12) },
      ],
    },
    'attention',
    'yellow',
    'A has not backed up for 4 days. (and 1 more)',
  ],
];

describe('status, colour and sentence', () => {
  it.each(rows)('%s', (_, change, status, colour, sentence) => {
    const view = describeStatus({ ...serving, ...change });
    expect([view.status, view.colour, view.sentence]).toEqual([status, colour, sentence]);
  });

  it('gives each reason a stable key, so a notification is not repeated', () => {
    const view = describeStatus({
      ...serving,
      disk: { totalBytes: 100 * GB, freeBytes: 0.5 * GB },
      computers: [{ username: 'anna', displayName: 'A', createdAt: ago(30), lastBackupAt: ago(4) }],
      certificateNotAfter: new Date(NOW.getTime() + 2 * DAY),
    });
    expect(view.reasons.map((reason) => [reason.key, reason.severity])).toEqual([
      ['disk-full', 'critical'],
      ['stale:anna', 'warning'],
      ['certificate-expiring', 'warning'],
    ]);
  });

  it('proposes running the retention when less than 10% of the disk is free and the desktop keeps a password; says when restic’s check found damage', () => {
    const anna = { username: 'anna', displayName: "Anna's laptop", checkProblem: null, runProblem: null };
    const bea = { username: 'bea', displayName: 'Bea’s desktop', checkProblem: 'restic found damage in the backups (pack 3f5a: not found)', runProblem: null };
    const messages = (change: Partial<StatusFacts>) => describeStatus({ ...serving, ...change }).reasons.map((reason) => [reason.key, reason.message]);
    expect(messages({ disk: { totalBytes: 1000 * GB, freeBytes: 101 * GB }, care: [anna] })).toEqual([]);
    expect(messages({ disk: { totalBytes: 1000 * GB, freeBytes: 99 * GB }, care: [] })).toEqual([['disk-almost-full', 'The backup disk is 90% full (99 GB free).']]);
    expect(messages({ disk: { totalBytes: 1000 * GB, freeBytes: 99 * GB }, care: [anna] })).toEqual([
      ['disk-almost-full', 'The backup disk is 90% full (99 GB free).'],
      ['retention-proposed', "Less than 10% of the backup disk is free: removing old backups makes room. Preview and run the retention now on the page of Anna's laptop."],
    ]);
    expect(messages({ disk: { totalBytes: 1000 * GB, freeBytes: 50 * GB }, care: [anna, bea] })).toEqual([
      ['disk-almost-full', 'The backup disk is 95% full (50 GB free).'],
      ['retention-proposed', "Less than 10% of the backup disk is free: removing old backups makes room. Preview and run the retention now on the page of each computer (Anna's laptop, Bea’s desktop)."],
      ['check-damaged:bea', 'restic’s monthly check of Bea’s desktop’s backups found damage: restic found damage in the backups (pack 3f5a: not found). Run “Check now” in Storage: damaged files are moved aside and repaired.'],
    ]);
  });

  it('says when the desktop’s retention or check of a computer did not work, so that it reaches the notifications', () => {
    const anna = { username: 'anna', displayName: "Anna's laptop", checkProblem: null, runProblem: 'removing old backups did not work, the password does not open these backups' };
    expect(describeStatus({ ...serving, care: [anna] }).reasons).toEqual([
      {
        key: 'care-failing:anna',
        severity: 'warning',
        message: "The desktop could not look after Anna's laptop’s backups: removing old backups did not work, the password does not open these backups.",
      },
    ]);
  });
});

const state = (status: AppState['status'], colour: AppState['colour'], sentence: string, clientUrl: string | null = null) => ({ status, colour, sentence, clientUrl });

describe('tray model', () => {
  it.each([
    [state('stopped', 'grey', 'The backup server is stopped.'), 'Start the server', true, false],
    [state('starting', 'grey', 'The backup server is starting.'), 'Stop the server', false, false],
    [state('serving', 'green', 'Serving.', 'https://h:8000/'), 'Stop the server', true, true],
    [state('attention', 'yellow', 'A is stale.', 'https://h:8000/'), 'Stop the server', true, true],
    [state('disk-missing', 'red', 'Disk gone.', 'https://h:8000/'), 'Stop the server', true, true],
    [state('error', 'red', 'Port in use.'), 'Start the server', true, false],
  ])('%j', (input, toggle, toggleEnabled, copyEnabled) => {
    const model = trayModel(input);
    expect(model.colour).toBe(input.colour);
    expect(model.tooltip).toBe(`Restic Tray Server: ${input.sentence}`);
    expect(model.menu).toEqual([
      { kind: 'status', label: input.sentence },
      { kind: 'separator' },
      { kind: 'action', action: 'toggle', label: toggle, enabled: toggleEnabled },
      { kind: 'action', action: 'open', label: 'Open Restic Tray Server', enabled: true },
      { kind: 'action', action: 'copy-address', label: 'Copy the client address', enabled: copyEnabled },
      { kind: 'separator' },
      { kind: 'action', action: 'quit', label: 'Quit', enabled: true },
    ]);
  });

  it('says in the tooltip that computers set up but never backed up are not connected yet', () => {
    const computers = ['a', 'b'].map((username) => ({ username, displayName: username, createdAt: NOW, lastBackupAt: null }));
    const tooltip = trayModel({ ...describeStatus({ ...serving, computers }), clientUrl: serving.clientUrl }).tooltip;
    expect(tooltip).toBe('Restic Tray Server: Serving backups at https://192.168.1.20:8000/; 2 computers not connected yet.');
    expect(tooltip).not.toContain('up to date');
  });

  it('cuts a long sentence to what Windows shows in a tooltip and to a readable menu width', () => {
    const model = trayModel(state('attention', 'yellow', 'x'.repeat(300)));
    expect(model.tooltip).toHaveLength(127);
    expect(model.tooltip.endsWith('…')).toBe(true);
    expect((model.menu[0] as { label: string }).label).toHaveLength(80);
  });
});

type Notable = Parameters<typeof notificationsFor>[1];

describe('notifications', () => {
  const green: Notable = { colour: 'green', sentence: 'Serving.', reasons: [] };
  const stale = { key: 'stale:anna', severity: 'warning' as const, message: 'Anna has not backed up for 4 days.' };
  const red: Notable = { colour: 'red', sentence: 'The disk is gone.', reasons: [] };
  const yellow: Notable = { colour: 'yellow', sentence: stale.message, reasons: [stale] };

  const cases: [string, Notable | undefined, Notable, Notification[]][] = [
    ['launch, all fine', undefined, green, []],
    ['launch with the disk missing', undefined, red, [{ title: 'Backups need you', body: 'The disk is gone.' }]],
    ['turning red', green, red, [{ title: 'Backups need you', body: 'The disk is gone.' }]],
    ['staying red', red, { ...red, sentence: 'Still gone.' }, []],
    ['recovering', red, green, [{ title: 'Backups work again', body: 'Serving.' }]],
    ['a new warning', green, yellow, [{ title: 'Restic Tray Server', body: stale.message }]],
    ['the same warning again', yellow, { ...yellow }, []],
    ['a warning that went away', yellow, green, []],
  ];
  it.each(cases)('%s', (_, previous, next, expected) => {
    expect(notificationsFor(previous, next)).toEqual(expected);
  });
});
