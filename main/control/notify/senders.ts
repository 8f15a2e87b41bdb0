import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createTransport } from 'nodemailer';
import type { ChannelSettings } from '../../contract.js';

const TIMEOUT_MS = 20_000;

/** One message for the admin; a webhook receives exactly these fields (the README documents them). */
export interface Message {
  event: 'problem' | 'resolved' | 'digest' | 'test';
  severity: 'critical' | 'warning' | 'info';
  computer: string | null;
  title: string;
  message: string;
  time: string;
}

/** A Healthchecks-style ping: the backup arrived, or (`fail`) it is overdue. */
export interface Ping {
  ping: 'success' | 'fail';
}

/** A channel as kept: its settings and its secret (password, token, or the address itself). */
export interface StoredChannel {
  id: string;
  settings: ChannelSettings;
  secret: string | null;
}

/** A sending failure, in words; never the secret. */
export class SendError extends Error {}

/** ntfy's priorities: 5 wakes the phone, 2 arrives quietly. */
const NTFY_PRIORITY: Record<Message['event'], (severity: Message['severity']) => number> = {
  problem: (severity) => (severity === 'critical' ? 5 : 4),
  resolved: () => 3,
  digest: () => 2,
  test: () => 3,
};

const CERTIFICATE_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/** A network failure in words, naming the host only (an address may carry a token in its path). */
function networkWords(error: NodeJS.ErrnoException & { reason?: string }, host: string): string {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED') return `nothing answers at ${host}: check the address and the port.`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the name ${host.replace(/:\d+$/, '')} is not known: check its spelling and this computer’s internet connection.`;
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return `${host} did not answer in time.`;
  if (CERTIFICATE_CODES.test(code) || /certificate/i.test(error.message)) {
    return `the certificate of ${host} is not trusted (${error.reason ?? error.message}). If it is your own server with a self-made certificate, switch off its certificate check.`;
  }
  return `${host} could not be reached (${error.message}).`;
}

/** One HTTP(S) request with a small body; resolves with the status. */
function send(url: URL, method: 'GET' | 'POST', checkCertificate: boolean, body?: { type: string; text: string; headers?: Record<string, string> }): Promise<number> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'User-Agent': 'restic-tray-server', ...body?.headers };
    if (body) {
      headers['Content-Type'] = body.type;
      headers['Content-Length'] = String(Buffer.byteLength(body.text));
    }
    const req = request(url, { method, headers, rejectUnauthorized: checkCertificate, timeout: TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', (error) => reject(new SendError(networkWords(error, url.host))));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (error) => reject(new SendError(networkWords(error, url.host))));
    req.end(body?.text);
  });
}

const ok = (status: number) => status >= 200 && status < 300;

async function toNtfy(settings: Extract<ChannelSettings, { kind: 'ntfy' }>, token: string | null, message: Message): Promise<void> {
  const server = new URL(settings.server);
  const body = JSON.stringify({ topic: settings.topic, title: message.title, message: message.message, priority: NTFY_PRIORITY[message.event](message.severity), tags: [message.event === 'resolved' ? 'white_check_mark' : message.severity === 'critical' ? 'rotating_light' : 'floppy_disk'] });
  const status = await send(server, 'POST', settings.checkCertificate, { type: 'application/json', text: body, headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (ok(status)) return;
  if (status === 401) throw new SendError('ntfy answered 401: the access token is wrong or has expired.');
  if (status === 403) throw new SendError(token ? 'ntfy answered 403: this access token may not send to the topic.' : 'ntfy answered 403: the topic needs a token.');
  if (status === 429) throw new SendError('ntfy answered 429: too many messages for now; it is tried again later.');
  throw new SendError(`ntfy answered ${status}: check the server address.`);
}

async function toWebhook(settings: Extract<ChannelSettings, { kind: 'webhook' }>, url: URL, message: Message): Promise<void> {
  const { event, severity, computer, time } = message;
  const status = await send(url, 'POST', settings.checkCertificate, { type: 'application/json', text: JSON.stringify({ event, severity, computer, message: message.message, time }) });
  if (ok(status)) return;
  if (status === 401 || status === 403) throw new SendError(`the webhook at ${url.host} answered ${status}: it refused the address (its token may be wrong).`);
  if (status === 404) throw new SendError(`the webhook at ${url.host} answered 404: nothing is at that address.`);
  throw new SendError(`the webhook at ${url.host} answered ${status}.`);
}

async function toPing(settings: Extract<ChannelSettings, { kind: 'ping' }>, url: URL, ping: Ping): Promise<void> {
  const target = new URL(url);
  if (ping.ping === 'fail') target.pathname = `${target.pathname.replace(/\/$/, '')}/fail`;
  const status = await send(target, 'GET', settings.checkCertificate);
  if (!ok(status)) throw new SendError(`the ping address at ${url.host} answered ${status}: check the address.`);
}

/** nodemailer's failures in words. */
function mailWords(error: Error & { code?: string; response?: string; responseCode?: number }, host: string): string {
  switch (error.code) {
    case 'EAUTH':
      return `the SMTP server refused the login${error.response ? ` (${error.response})` : ''}: check the user name and password; many providers want an app password here.`;
    case 'ENOAUTH':
      return 'the SMTP server wants a login: fill in the user name and password.';
    case 'EENVELOPE':
      return `the SMTP server refused the addresses${error.response ? ` (${error.response})` : ''}: check the sender and recipient.`;
    case 'ETLS':
      return `${host} offered no encryption (STARTTLS): choose TLS, or another port.`;
    case 'EMESSAGE':
      return `the SMTP server refused the message${error.response ? ` (${error.response})` : ''}.`;
    default:
      return networkWords(error, host);
  }
}

async function toEmail(settings: Extract<ChannelSettings, { kind: 'email' }>, password: string | null, message: Message): Promise<void> {
  const transport = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.security === 'tls',
    requireTLS: settings.security === 'starttls',
    auth: settings.user ? { user: settings.user, pass: password ?? '' } : undefined,
    tls: { rejectUnauthorized: settings.checkCertificate, servername: settings.host },
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  try {
    await transport.sendMail({ from: settings.from, to: settings.to, subject: message.title, text: `${message.message}\n\n${message.time}\nRestic Tray Server` });
  } catch (error) {
    throw new SendError(mailWords(error as Error, `${settings.host}:${settings.port}`));
  } finally {
    transport.close();
  }
}

/** Sends a message (or a ping) through a channel; a failure is a `SendError` in words. A ping channel takes pings and its test only. */
export async function deliver(channel: StoredChannel, item: Message | Ping): Promise<void> {
  const { settings, secret } = channel;
  const address = () => {
    if (secret === null) throw new SendError('its address is missing: give it again in Settings → Notifications.');
    return new URL(secret);
  };
  if ('ping' in item) {
    if (settings.kind === 'ping') await toPing(settings, address(), item);
    return;
  }
  if (settings.kind === 'email') await toEmail(settings, secret, item);
  else if (settings.kind === 'ntfy') await toNtfy(settings, secret, item);
  else if (settings.kind === 'webhook') await toWebhook(settings, address(), item);
  else if (item.event === 'test') await toPing(settings, address(), { ping: 'success' });
}
