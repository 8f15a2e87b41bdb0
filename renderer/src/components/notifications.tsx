import { useState } from 'preact/hooks';
import type { AppState, ChannelInput, ChannelKind, ChannelTest, ChannelView, Digest } from '../../../main/contract.js';
import { api } from '../api.js';
import { parsePort, timeAgo } from '../format.js';
import { Badge, Confirm, ErrorText, Field, Toggle, useAction } from './ui.js';

/** Common providers' mail servers: host and port only (the login is the family's own). */
const PROVIDERS: { label: string; host: string; port: number; security: 'starttls' | 'tls' }[] = [
  { label: 'Gmail', host: 'smtp.gmail.com', port: 587, security: 'starttls' },
  { label: 'Outlook.com, Hotmail', host: 'smtp-mail.outlook.com', port: 587, security: 'starttls' },
  { label: 'iCloud Mail', host: 'smtp.mail.me.com', port: 587, security: 'starttls' },
  { label: 'Yahoo Mail', host: 'smtp.mail.yahoo.com', port: 465, security: 'tls' },
  { label: 'GMX', host: 'mail.gmx.net', port: 587, security: 'starttls' },
  { label: 'Fastmail', host: 'smtp.fastmail.com', port: 465, security: 'tls' },
];

const KINDS: { kind: ChannelKind; label: string }[] = [
  { kind: 'email', label: 'E-mail' },
  { kind: 'ntfy', label: 'Phone (ntfy)' },
  { kind: 'webhook', label: 'Webhook' },
  { kind: 'ping', label: 'Computer check-in (ping)' },
];

type Form = { host: string; port: string; security: 'starttls' | 'tls'; user: string; from: string; to: string; server: string; topic: string; username: string; secret: string; checkCertificate: boolean };

const EMPTY: Form = { host: '', port: '587', security: 'starttls', user: '', from: '', to: '', server: 'https://ntfy.sh', topic: '', username: '', secret: '', checkCertificate: true };

function formOf(channel: ChannelView): Form {
  const { settings } = channel;
  return {
    ...EMPTY,
    ...(settings.kind === 'email' ? { host: settings.host, port: String(settings.port), security: settings.security, user: settings.user, from: settings.from, to: settings.to } : {}),
    ...(settings.kind === 'ntfy' ? { server: settings.server, topic: settings.topic } : {}),
    ...(settings.kind === 'ping' ? { username: settings.username } : {}),
    checkCertificate: settings.checkCertificate,
  };
}

/** The form as the app's method takes it; an empty secret keeps the one kept. */
function inputOf(kind: ChannelKind, form: Form, id: string | undefined): ChannelInput {
  const secret = form.secret.trim() === '' ? {} : { secret: form.secret.trim() };
  const common = { ...(id ? { id } : {}), checkCertificate: form.checkCertificate, ...secret };
  switch (kind) {
    case 'email':
      return { kind, host: form.host.trim(), port: parsePort(form.port), security: form.security, user: form.user.trim(), from: form.from.trim(), to: form.to.trim(), ...common };
    case 'ntfy':
      return { kind, server: form.server.trim(), topic: form.topic.trim(), ...common };
    case 'webhook':
      return { kind, ...common };
    case 'ping':
      return { kind, username: form.username, ...common };
  }
}

/** Adding or changing one channel. */
function ChannelForm({ state, channel, onDone }: { state: AppState; channel: ChannelView | null; onDone: () => void }) {
  const [kind, setKind] = useState<ChannelKind>(channel?.settings.kind ?? 'email');
  const [form, setForm] = useState<Form>(channel ? formOf(channel) : { ...EMPTY, username: state.computers[0]?.username ?? '' });
  const action = useAction();
  const set = (field: keyof Form) => (value: string | boolean) => setForm({ ...form, [field]: value });
  const kept = channel?.hasSecret ? 'Kept; type a new one to change it' : undefined;
  const save = () =>
    action.run(async () => {
      await api.saveChannel(inputOf(kind, form, channel?.id));
      onDone();
    });
  return (
    <form
      class="stack channel-form"
      onSubmit={(event) => {
        event.preventDefault();
        void save();
      }}
    >
      {!channel && (
        <div class="tabs" role="radiogroup" aria-label="Kind of channel">
          {KINDS.map((one) => (
            <button type="button" role="radio" aria-checked={kind === one.kind} class={`tab ${kind === one.kind ? 'active' : ''}`} onClick={() => setKind(one.kind)}>
              {one.label}
            </button>
          ))}
        </div>
      )}
      {kind === 'email' && (
        <>
          <label for="mail-provider">Provider</label>
          <select
            id="mail-provider"
            value={PROVIDERS.find((provider) => provider.host === form.host)?.host ?? ''}
            onChange={(event) => {
              const provider = PROVIDERS.find((one) => one.host === (event.target as HTMLSelectElement).value);
              if (provider) setForm({ ...form, host: provider.host, port: String(provider.port), security: provider.security });
            }}
          >
            <option value="">Another provider (type its mail server below)</option>
            {PROVIDERS.map((provider) => (
              <option value={provider.host}>{provider.label}</option>
            ))}
          </select>
          <Field id="mail-host" label="Mail server (SMTP)" value={form.host} onInput={set('host')} placeholder="smtp.example.net" />
          <Field id="mail-port" label="Port" value={form.port} onInput={set('port')} />
          <label for="mail-security">Encryption</label>
          <select id="mail-security" value={form.security} onChange={(event) => set('security')((event.target as HTMLSelectElement).value)}>
            <option value="starttls">STARTTLS (usually port 587)</option>
            <option value="tls">TLS from the start (usually port 465)</option>
          </select>
          <Field id="mail-user" label="Login (often the e-mail address; empty for none)" value={form.user} onInput={set('user')} />
          <Field id="mail-password" label="Password" secret value={form.secret} onInput={set('secret')} placeholder={kept} hint="Kept in a file in this app’s settings folder that only you can read, never in the settings or the logs. Gmail, iCloud and Yahoo want an app password made for this." />
          <Field id="mail-from" label="From" value={form.from} onInput={set('from')} placeholder="backups@example.net" />
          <Field id="mail-to" label="To" value={form.to} onInput={set('to')} placeholder="you@example.net" />
        </>
      )}
      {kind === 'ntfy' && (
        <>
          <Field id="ntfy-server" label="ntfy server" value={form.server} onInput={set('server')} hint="ntfy.sh, or your own ntfy server’s address." />
          <Field id="ntfy-topic" label="Topic" value={form.topic} onInput={set('topic')} hint="Subscribe to it in the ntfy app on your phone. On ntfy.sh anyone who knows a topic can read it: choose one hard to guess." />
          <Field id="ntfy-token" label="Access token (optional)" secret value={form.secret} onInput={set('secret')} placeholder={kept} hint="Only for a topic that needs a login (tk_…)." />
        </>
      )}
      {kind === 'webhook' && (
        <Field
          id="webhook-url"
          label="Webhook address"
          secret
          value={form.secret}
          onInput={set('secret')}
          placeholder={kept ?? 'https://…'}
          hint="Gets a JSON message: event, severity, computer, message, time. Such an address often carries a token: it is kept like a password."
        />
      )}
      {kind === 'ping' && state.computers.length === 0 && <p class="hint">Add a computer first: each computer has its own ping address.</p>}
      {kind === 'ping' && state.computers.length > 0 && (
        <>
          <label for="ping-computer">Computer</label>
          <select id="ping-computer" value={form.username} onChange={(event) => set('username')((event.target as HTMLSelectElement).value)}>
            {state.computers.map((computer) => (
              <option value={computer.username}>{computer.displayName}</option>
            ))}
          </select>
          <Field
            id="ping-url"
            label="Ping address"
            secret
            value={form.secret}
            onInput={set('secret')}
            placeholder={kept ?? 'https://hc-ping.com/…'}
            hint="From Healthchecks.io or a similar service: pinged when this computer’s backup arrives, with /fail added when it is overdue."
          />
        </>
      )}
      <Toggle checked={form.checkCertificate} onChange={set('checkCertificate')} label="Check the server’s certificate" hint="Leave on. Switch off only for your own server with a self-made certificate." />
      <div class="button-row">
        <button type="submit" class="button primary" disabled={action.busy}>
          {channel ? 'Save the changes' : 'Add the channel'}
        </button>
        <button type="button" class="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      <ErrorText error={action.error} />
    </form>
  );
}

/** One channel: where it sends, how it fares, and its buttons. */
function ChannelRow({ channel, onEdit }: { channel: ChannelView; onEdit: () => void }) {
  const [test, setTest] = useState<ChannelTest | null>(null);
  const [removing, setRemoving] = useState(false);
  const action = useAction();
  return (
    <li class="channel">
      <div class="channel-head">
        <span class="channel-label">{channel.label}</span>
        {channel.failing ? <Badge tone="bad">Keeps failing</Badge> : channel.problem ? <Badge tone="warn">Last message failed</Badge> : channel.lastSentAt ? <Badge tone="ok">Sent {timeAgo(channel.lastSentAt)}</Badge> : null}
      </div>
      {channel.problem && !test && <p class="warn-text">The last message did not go out: {channel.problem}</p>}
      <div class="button-row">
        <button type="button" class="button small" disabled={action.busy} onClick={() => void action.run(async () => setTest(await api.testChannel({ id: channel.id })))}>
          {action.busy ? 'Sending…' : 'Send a test'}
        </button>
        <button type="button" class="button small" onClick={onEdit}>
          Change
        </button>
        <button type="button" class="button small" onClick={() => setRemoving(true)}>
          Remove
        </button>
      </div>
      {test && (
        <p class={test.sent ? 'ok-text' : 'error'} role="status">
          {test.message}
        </p>
      )}
      {removing && (
        <Confirm id={`remove-${channel.id}`} question="Remove this channel?" yes="Remove it" no="Keep it" onNo={() => setRemoving(false)} onYes={() => void action.run(() => api.removeChannel({ id: channel.id }))}>
          Messages no longer go there. Its password or token is deleted from this computer.
        </Confirm>
      )}
      <ErrorText error={action.error} />
    </li>
  );
}

const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** Quiet hours and the digest: saved as settings. */
function When({ state }: { state: AppState }) {
  const { quietHours, digest } = state.settings;
  const action = useAction();
  const hourSelect = (id: string, value: number, change: (hour: number) => void) => (
    <select id={id} class="narrow" value={value} onChange={(event) => change(Number((event.target as HTMLSelectElement).value))}>
      {HOURS.map((hour) => (
        <option value={hour}>{`${String(hour).padStart(2, '0')}:00`}</option>
      ))}
    </select>
  );
  return (
    <>
      <h3>When</h3>
      <Toggle checked={quietHours !== null} onChange={(on) => action.run(() => api.updateSettings({ quietHours: on ? { from: 22, to: 7 } : null }))} label="Quiet hours" hint="Problems found at night wait until the morning, except a disk that fails to read." />
      {quietHours && (
        <div class="row-form">
          <label for="quiet-from">From</label>
          {hourSelect('quiet-from', quietHours.from, (from) => void action.run(() => api.updateSettings({ quietHours: { ...quietHours, from } })))}
          <label for="quiet-to">to</label>
          {hourSelect('quiet-to', quietHours.to, (to) => void action.run(() => api.updateSettings({ quietHours: { ...quietHours, to } })))}
        </div>
      )}
      <div class="row-form">
        <label for="digest">Summary of all backups</label>
        <select id="digest" value={digest} onChange={(event) => void action.run(() => api.updateSettings({ digest: (event.target as HTMLSelectElement).value as Digest }))}>
          <option value="off">Never</option>
          <option value="daily">Every morning</option>
          <option value="weekly">Every Monday morning</option>
        </select>
      </div>
      <ErrorText error={action.error} />
    </>
  );
}

/** Settings → Notifications: where messages to the family's admin go, and when. */
export function Notifications({ state }: { state: AppState }) {
  const [editing, setEditing] = useState<ChannelView | 'new' | null>(null);
  const { channels, held } = state.notify;
  return (
    <>
      <p class="why">
        Tell whoever looks after the backups, wherever they are: by e-mail, on a phone with the ntfy app, or through a webhook. Each problem is sent once, and again when it is resolved; a message that
        does not go out is tried again later. Nothing secret is ever in a message.
      </p>
      {channels.length > 0 && (
        <ul class="channel-list">
          {channels.map((channel) =>
            editing !== 'new' && editing?.id === channel.id ? (
              <li class="channel">
                <ChannelForm state={state} channel={channel} onDone={() => setEditing(null)} />
              </li>
            ) : (
              <ChannelRow channel={channel} onEdit={() => setEditing(channel)} />
            ),
          )}
        </ul>
      )}
      {held > 0 && <p class="hint">{held === 1 ? 'One message waits' : `${held} messages wait`} for the quiet hours to end.</p>}
      {editing === 'new' ? (
        <ChannelForm state={state} channel={null} onDone={() => setEditing(null)} />
      ) : (
        <button type="button" class="button" onClick={() => setEditing('new')}>
          Add a channel
        </button>
      )}
      <When state={state} />
    </>
  );
}
