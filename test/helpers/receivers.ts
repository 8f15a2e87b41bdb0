import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll } from 'vitest';
import { makeCertificates } from './certs.js';

const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * A mail server as providers run them: STARTTLS on a plain port (its
 * certificate made by a test authority the app does not know), a login
 * required, each message parsed with mailparser.
 */
export async function startSmtp(login: { user: string; password: string }) {
  const certificates = makeCertificates('SMTP');
  const mails: ParsedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    key: readFileSync(certificates.keyFile),
    cert: readFileSync(certificates.certFile),
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, callback) {
      if (auth.username === login.user && auth.password === login.password) return callback(null, { user: auth.username });
      return callback(new Error('Invalid username or password'));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
    logger: false,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const { port } = server.server.address() as AddressInfo;
  return { port, mails, caFile: certificates.caFile };
}

export interface Received {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTPS receiver (ntfy, a webhook, a ping service): records each request and answers `status(path)` (200 unless changed) after `delayMs(path)` (none unless changed). */
export async function startHttpsReceiver() {
  const certificates = makeCertificates('Receiver');
  const received: Received[] = [];
  const answers = { status: (_request: Received): number => 200, delayMs: (_request: Received): number => 0 };
  const server: Server = createServer({ key: readFileSync(certificates.keyFile), cert: readFileSync(certificates.certFile) }, (req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      received.push(request);
      setTimeout(() => {
        res.statusCode = answers.status(request);
        res.end(res.statusCode === 200 ? '{}' : 'refused');
      }, answers.delayMs(request));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { origin: `https://127.0.0.1:${port}`, received, answers };
}
