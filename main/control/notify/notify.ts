import { randomBytes } from 'node:crypto';
import type { AppState, ChannelInput, ChannelSettings, ChannelTest, ChannelView, NotifyView } from '../../contract.js';
import { UserError } from '../core/errors.js';
import type { Keychain } from '../core/keychain.js';
import type { Shared } from '../core/shared.js';
import { CHANNEL_FAILING } from '../core/status.js';
import { FAILING_AFTER, Outbox } from './outbox.js';
import { NotifyStore, type NotifyRecord } from './notify-store.js';
import { digestDue, digestText, isQuiet, isUrgent, localDay, problemsNow, resolvedMessage, type Problem } from './problems.js';
import { deliver, type Message, type StoredChannel } from './senders.js';

/** Where a channel sends, in words, with nothing secret (a webhook's or ping's path may carry a token: only its host is named). */
function labelOf(channel: StoredChannel, computerName: (username: string) => string): string {
  const { settings, secret } = channel;
  const host = (address: string | null) => (address ? new URL(address).host : 'no address yet');
  switch (settings.kind) {
    case 'email':
      return `E-mail to ${settings.to} through ${settings.host}:${settings.port}`;
    case 'ntfy':
      return `ntfy topic “${settings.topic}” on ${host(settings.server)}`;
    case 'webhook':
      return `Webhook at ${host(secret)}`;
    case 'ping':
      return `Ping for ${computerName(settings.username)} at ${host(secret)}`;
  }
}

const TITLES: Record<Message['event'], string> = {
  problem: 'Backups need you',
  resolved: 'Backups: resolved',
  digest: 'Backups: summary',
  test: 'Test from Restic Tray Server',
};

/**
 * Telling the family's admin wherever they are: e-mail, ntfy, webhooks, and
 * Healthchecks-style pings per computer. Problems come from the state the
 * dashboard shows (its reasons, the disk away, the server stopped), each
 * said once and again when resolved; quiet hours hold them until morning
 * (a failing disk excepted); a daily or weekly digest; failed messages
 * retried, and a channel that keeps failing shown on the dashboard.
 */
export class Notify {
  private readonly store: NotifyStore;
  private record: NotifyRecord = { channels: [], announced: [], digestDay: null };
  /** The problems open now; `announced` once the channels were given them. */
  private problems = new Map<string, { problem: Problem; announced: boolean }>();
  /** Recoveries waiting for the quiet hours to end. */
  private heldRecoveries: Problem[] = [];
  private diskAwaySince: number | null = null;
  /** Per ping channel: the computer's last backup seen, and whether its overdue ping was sent. */
  private readonly pings = new Map<string, { lastBackupAt: string | null; failed: boolean }>();
  private readonly outbox: Outbox;

  constructor(
    private readonly shared: Shared,
    /** The system keychain (the desktop app) that seals the channels' secrets; without it a key file does. */
    keychain: Keychain | undefined,
  ) {
    this.store = new NotifyStore(shared.options.configDir, keychain);
    this.outbox = new Outbox({
      send: (id, item) => {
        const channel = this.channel(id);
        return channel ? deliver(channel, item) : Promise.resolve();
      },
      now: () => this.now(),
      onHealth: (id, failed) => {
        const channel = this.channel(id);
        if (failed && channel) this.shared.emit('note', `A notification (${this.label(channel)}) did not go out: ${failed}`, 'warning');
        this.shared.changed();
      },
    });
  }

  /** The app closes: what is being written is finished, nothing later is (messages not sent yet are not kept). */
  close(): Promise<void> {
    return this.store.close();
  }

  async open(): Promise<void> {
    const { record, problem } = await this.store.load(new Date(this.now()));
    this.record = record;
    this.problems = new Map(record.announced.map((announced) => [announced.key, { problem: announced, announced: true }]));
    if (problem) this.shared.addNotice(problem);
  }

  view(): NotifyView {
    return { channels: this.record.channels.map((channel) => this.channelView(channel)), held: [...this.problems.values()].filter((entry) => !entry.announced).length + this.heldRecoveries.length };
  }

  /** The channels that keep failing, for the status. */
  failing(): { id: string; label: string; problem: string }[] {
    return this.record.channels.flatMap((channel) => {
      const health = this.outbox.health(channel.id);
      return health.failures >= FAILING_AFTER && health.problem ? [{ id: channel.id, label: this.label(channel), problem: health.problem }] : [];
    });
  }

  saveChannel(input: ChannelInput): Promise<AppState> {
    return this.shared.mutate(async () => {
      const { id, secret, ...settings } = input;
      const before = id === undefined ? undefined : this.channel(id);
      if (id !== undefined && !before) throw new UserError('no-channel', 'This channel was removed meanwhile: add it again.');
      if (settings.kind === 'ping' && !this.shared.computer(settings.username)) throw new UserError('no-computer', 'There is no such computer: choose one of the computers.');
      const kept = before && before.settings.kind === settings.kind ? before.secret : null;
      const channel: StoredChannel = { id: id ?? randomBytes(6).toString('hex'), settings: settings as ChannelSettings, secret: secret === undefined ? kept : secret };
      if ((settings.kind === 'webhook' || settings.kind === 'ping') && !channel.secret) throw new UserError('no-address', 'The address is needed: paste the one the service gave you.');
      const channels = before ? this.record.channels.map((one) => (one.id === channel.id ? channel : one)) : [...this.record.channels, channel];
      await this.save({ ...this.record, channels });
      if (before) this.outbox.retryNow(channel.id);
      this.pings.delete(channel.id);
      return this.shared.state();
    });
  }

  removeChannel(input: { id: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      if (!this.channel(input.id)) throw new UserError('no-channel', 'This channel was already removed.');
      await this.save({ ...this.record, channels: this.record.channels.filter((channel) => channel.id !== input.id) });
      this.outbox.drop(input.id);
      this.pings.delete(input.id);
      return this.shared.state();
    });
  }

  /** Sends a test now, once (no retry), and says what happened in words. */
  async testChannel(input: { id: string }): Promise<ChannelTest> {
    const channel = this.channel(input.id);
    if (!channel) throw new UserError('no-channel', 'This channel was removed meanwhile: add it again.');
    const message = this.message('test', 'info', null, 'This is a test. Messages about the family’s backups will arrive here.');
    try {
      await deliver(channel, message);
    } catch (error) {
      this.outbox.record(channel.id, (error as Error).message);
      this.shared.changed();
      return { sent: false, message: `Not sent: ${(error as Error).message}` };
    }
    this.outbox.record(channel.id, null);
    this.shared.changed();
    return { sent: true, message: this.sentWords(channel) };
  }

  /** Follows each state the app publishes: what to tell, what to hold, pings, the digest, retries. */
  observe(state: AppState): void {
    const now = this.now();
    if (state.status !== 'disk-missing') this.diskAwaySince = null;
    else this.diskAwaySince ??= now;
    const before = [...this.problems.values()].map((entry) => entry.problem);
    const problems = problemsNow(state, before, this.diskAwaySince === null ? 0 : now - this.diskAwaySince);
    const current = new Set(problems.map((problem) => problem.key));
    const quiet = isQuiet(now, this.shared.settings.quietHours);
    let changed = false;
    for (const [key, entry] of this.problems) {
      if (current.has(key)) continue;
      this.problems.delete(key);
      changed ||= entry.announced;
      if (entry.announced) this.heldRecoveries.push(entry.problem);
    }
    for (const problem of problems) {
      if (this.problems.has(problem.key)) continue;
      // Back before its recovery was sent (quiet hours): as if it never left.
      const held = this.heldRecoveries.findIndex((recovered) => recovered.key === problem.key);
      if (held >= 0) this.heldRecoveries.splice(held, 1);
      this.problems.set(problem.key, { problem, announced: held >= 0 });
    }
    for (const entry of this.problems.values()) {
      if (entry.announced || (quiet && !isUrgent(entry.problem))) continue;
      entry.announced = true;
      changed = true;
      this.broadcast(this.message('problem', entry.problem.severity, entry.problem.computer, entry.problem.message), entry.problem.key);
    }
    if (!quiet) {
      for (const problem of this.heldRecoveries.splice(0)) this.broadcast(this.message('resolved', 'info', problem.computer, resolvedMessage(problem)), problem.key);
    }
    if (state.status === 'serving' || state.status === 'attention') this.followPings(state);
    const { digest, quietHours } = this.shared.settings;
    if (digest !== 'off' && digestDue(now, digest, quietHours, this.record.digestDay)) {
      this.broadcast(this.message('digest', 'info', null, digestText(state, now, digest)), null);
      this.record = { ...this.record, digestDay: localDay(now) };
      changed = true;
    }
    if (changed) this.persist();
    this.outbox.run();
  }

  private followPings(state: AppState): void {
    for (const channel of this.record.channels) {
      if (channel.settings.kind !== 'ping') continue;
      const { username } = channel.settings;
      const computer = state.computers.find((one) => one.username === username);
      if (!computer) continue;
      const seen = this.pings.get(channel.id);
      // The first look only learns the last backup: it is not a new one.
      if (seen && computer.lastBackupAt !== null && computer.lastBackupAt !== seen.lastBackupAt) this.outbox.add(channel.id, { ping: 'success' });
      if (computer.stale && !seen?.failed) this.outbox.add(channel.id, { ping: 'fail' });
      this.pings.set(channel.id, { lastBackupAt: computer.lastBackupAt, failed: computer.stale });
    }
  }

  /** A message to every channel but the pings; a channel's own failure is not sent to it. */
  private broadcast(message: Message, key: string | null): void {
    for (const channel of this.record.channels) {
      if (channel.settings.kind === 'ping' || key === `${CHANNEL_FAILING}${channel.id}`) continue;
      this.outbox.add(channel.id, message);
    }
  }

  private message(event: Message['event'], severity: Message['severity'], computer: string | null, text: string): Message {
    const title = event === 'problem' && severity === 'critical' ? `${TITLES.problem} now` : TITLES[event];
    return { event, severity, computer, title: computer ? `${title}: ${computer}` : title, message: text, time: new Date(this.now()).toISOString() };
  }

  private sentWords(channel: StoredChannel): string {
    switch (channel.settings.kind) {
      case 'email':
        return `Sent: the mail server took the message for ${channel.settings.to}. Look in that mailbox (and in its spam folder).`;
      case 'ntfy':
        return `Sent: ntfy took the message. It shows on the phones that follow the topic “${channel.settings.topic}”.`;
      case 'webhook':
        return 'Sent: the webhook took the message.';
      case 'ping':
        return 'Sent: the ping address answered. The check there shows a ping now.';
    }
  }

  private channelView(channel: StoredChannel): ChannelView {
    const health = this.outbox.health(channel.id);
    return {
      id: channel.id,
      settings: channel.settings,
      label: this.label(channel),
      hasSecret: channel.secret !== null,
      problem: health.problem,
      failing: health.failures >= FAILING_AFTER,
      lastSentAt: health.lastSentAt === null ? null : new Date(health.lastSentAt).toISOString(),
    };
  }

  private label(channel: StoredChannel): string {
    return labelOf(channel, (username) => this.shared.computer(username)?.displayName ?? username);
  }

  private channel(id: string): StoredChannel | undefined {
    return this.record.channels.find((channel) => channel.id === id);
  }

  private async save(record: NotifyRecord): Promise<void> {
    await this.store.save(record);
    this.record = record;
  }

  /** Keeps what was announced (and the digest's day) in the background; a failure is a notice. */
  private persist(): void {
    const announced = [...this.problems.values()].filter((entry) => entry.announced).map((entry) => entry.problem);
    this.record = { ...this.record, announced };
    this.store.save(this.record).catch((error: Error) => this.shared.addNotice(`Cannot save the notification settings in ${this.store.file} (${error.message}).`));
  }

  private now(): number {
    return this.shared.options.now?.() ?? Date.now();
  }
}
