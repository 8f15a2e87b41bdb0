import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { inspectCertificate } from '../../../../main/control/tls/certificates.js';
import type { UserError } from '../../../../main/control/core/errors.js';
import { makeCertificates } from '../../../helpers/certs.js';
import { freePort, openController, waitForState } from '../../../helpers/controller.js';
import { makeSourceTree, resticOk, snapshotCount } from '../../../helpers/restic.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

function presentedFingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe.runIf(hasTool('openssl'))('the app’s certificates', () => {
  it('the app imports an own certificate, serves it, and goes back to the household one', async () => {
    const { controller, configDir } = await openController();
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const port = await freePort();
    await controller.updateSettings({ port, listenAddresses: ['127.0.0.1'] });
    const household = await controller.startServer();
    expect(household.certificate.mode).toBe('household');
    const ca = await controller.caCertificate();
    expect(household.certificate.fingerprint).toBe(ca.fingerprint);
    expect(household.certificate.names).toEqual(expect.arrayContaining(['localhost', 'testhost', 'testhost.local', '127.0.0.2', '127.0.0.1', '::1']));

    const own = makeCertificates('Own');
    const pair = { certificatePem: readFileSync(own.certFile, 'utf8'), keyPem: readFileSync(own.keyFile, 'utf8') };
    const wrong = await controller.importCertificate({ ...pair, keyPem: readFileSync(makeCertificates('Other').keyFile, 'utf8') }).catch((error: UserError) => error.code);
    expect(wrong).toBe('key-mismatch');
    await controller.importCertificate(pair);
    const ownState = await waitForState(controller, (s) => s.status === 'serving' && s.certificate.mode === 'own');
    const ownFingerprint = new X509Certificate(pair.certificatePem).fingerprint256;
    expect(ownState.certificate.fingerprint).toBe(ownFingerprint);
    expect(await presentedFingerprint('127.0.0.1', port)).toBe(ownFingerprint);
    expect((await controller.caCertificate()).pem).toBe(pair.certificatePem);

    await controller.useHouseholdCertificate();
    await waitForState(controller, (s) => s.status === 'serving' && s.certificate.mode === 'household');
    expect(await presentedFingerprint('127.0.0.1', port)).toBe(inspectCertificate(readFileSync(join(configDir, 'tls', 'server.pem'), 'utf8')).fingerprint);
  });

  it('a new authority is announced, since every computer needs its file again', async () => {
    const { controller } = await openController();
    const before = await controller.caCertificate();
    await controller.regenerateCertificates({ authority: false });
    expect((await controller.caCertificate()).fingerprint).toBe(before.fingerprint);
    const state = await controller.regenerateCertificates({ authority: true });
    expect(state.certificate.fingerprint).not.toBe(before.fingerprint);
    expect(state.notices.map((notice) => notice.message).join()).toMatch(/new household certificate authority .* every computer/);
    await controller.setTls({ enabled: false });
    expect(await controller.caCertificate().catch((error: UserError) => error.code)).toBe('tls-off');
  });

  it('a damaged server certificate file is issued again while serving; the state loads and a notice says so', async () => {
    const { controller, configDir } = await openController({ tickMs: 300 });
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    const port = await freePort();
    await controller.updateSettings({ port, listenAddresses: ['127.0.0.1'] });
    await controller.startServer();
    await waitForState(controller, (s) => s.status === 'serving');
    const ca = await controller.caCertificate();
    writeFileSync(join(configDir, 'tls', 'server.pem'), 'garbage\n');
    const state = await controller.getState();
    expect(state.certificate.fingerprint).toBe(ca.fingerprint);
    const mended = await waitForState(controller, (s) => s.notices.some((notice) => /server certificate file was damaged; a new one was made/.test(notice.message)));
    expect(mended.status).toBe('serving');
    const servedFingerprint = () => {
      try {
        return inspectCertificate(readFileSync(join(configDir, 'tls', 'server.pem'), 'utf8')).fingerprint;
      } catch {
        return 'not written yet';
      }
    };
    await waitFor(async () => (await presentedFingerprint('127.0.0.1', port)) === servedFingerprint());
    // Still trusted by what the computers have: the same authority signed it.
    expect(new X509Certificate(readFileSync(join(configDir, 'tls', 'server.pem'))).verify(new X509Certificate(ca.pem).publicKey)).toBe(true);
  });

  it('a damaged authority file is said in a notice that offers a new authority; the state still loads', async () => {
    const { controller, configDir } = await openController({ tickMs: 300 });
    await controller.chooseFolder({ path: tempDir('rts-data-') });
    await controller.updateSettings({ port: await freePort(), listenAddresses: ['127.0.0.1'] });
    await controller.caCertificate();
    writeFileSync(join(configDir, 'tls', 'household-ca.pem'), 'garbage\n');
    rmSync(join(configDir, 'tls', 'server.pem'), { force: true });
    const refused = await controller.startServer().catch((error: UserError) => error);
    expect(refused).toMatchObject({ code: 'authority-damaged', message: expect.stringMatching(/authority file is damaged.*Make a new authority in Security/) });
    const state = await controller.getState();
    expect(state.certificate.fingerprint).toBeNull();
    expect(state.notices.map((notice) => notice.message).join()).toMatch(/authority file is damaged\. Make a new authority in Security/);
    expect(await controller.caCertificate().catch((error: UserError) => error.code)).toBe('authority-damaged');
    await controller.regenerateCertificates({ authority: true });
    await controller.startServer();
    await waitForState(controller, (s) => s.status === 'serving' && s.certificate.fingerprint !== null);
  });

  /** Serves household TLS on 127.0.0.1 (the LAN address 203.0.113.9 is a public one), and backs up one computer with restic trusting the authority. */
  async function backUpOverTls(configDir?: string) {
    const { controller, configDir: config } = await openController({ configDir, lan: ['203.0.113.9'] });
    const data = tempDir('rts-data-');
    await controller.chooseFolder({ path: data });
    const port = await freePort();
    await controller.updateSettings({ port, listenAddresses: ['127.0.0.1'] });
    const anna = await controller.addComputer({ displayName: 'Anna' });
    const state = await controller.startServer();
    const ca = join(tempDir('rts-ca-'), 'ca.pem');
    writeFileSync(ca, (await controller.caCertificate()).pem);
    const repo = `rest:https://${anna.username}:${anna.password}@127.0.0.1:${port}/${anna.username}/`;
    await resticOk(repo, ['--cacert', ca, 'init']);
    await resticOk(repo, ['--cacert', ca, 'backup', makeSourceTree(2, 10_000)]);
    expect(await snapshotCount(join(data, anna.username))).toBe(1);
    return { state, ca, config };
  }

  it.skipIf(!hasTool('restic'))('a new household authority is limited to private addresses and local names, and restic backs up trusting it', { timeout: 120_000 }, async () => {
    const { state, ca } = await backUpOverTls();
    expect(execFileSync('openssl', ['x509', '-in', ca, '-noout', '-text'], { encoding: 'utf8' })).toMatch(/X509v3 Name Constraints: critical\s+Permitted:\s+DNS:local\n/);
    // A certificate naming the public address would be refused as a whole: it is left out, and the notice says so.
    expect(state.certificate.names).toEqual(expect.arrayContaining(['localhost', 'testhost', 'testhost.local', '127.0.0.1', '::1']));
    expect(state.certificate.names).not.toContain('203.0.113.9');
    expect(state.notices.map((notice) => notice.message).join('\n')).toMatch(/may only name private addresses and local names, so it leaves out 203\.0\.113\.9:/);
  });

  it.skipIf(!hasTool('restic'))('an authority made before the constraints is kept, and signs every name, so connected computers go on backing up', { timeout: 120_000 }, async () => {
    // As the app made authorities before: the same, without Name Constraints.
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const older = await x509.X509CertificateGenerator.createSelfSigned(
      {
        serialNumber: '01',
        name: 'CN=Restic Tray Server household authority (testhost), O=Restic Tray Server',
        notBefore: new Date(Date.now() - 86_400_000),
        notAfter: new Date(Date.now() + 365 * 86_400_000),
        keys,
        signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
        extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
      },
      webcrypto,
    );
    const configDir = tempDir('rts-config-');
    mkdirSync(join(configDir, 'tls'));
    writeFileSync(join(configDir, 'tls', 'household-ca.pem'), older.toString('pem'));
    const key = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
    writeFileSync(join(configDir, 'tls', 'household-ca-key.pem'), `-----BEGIN PRIVATE KEY-----\n${key}\n-----END PRIVATE KEY-----\n`);
    const { state, ca } = await backUpOverTls(configDir);
    expect(new X509Certificate(readFileSync(ca)).fingerprint256).toBe(new X509Certificate(older.toString('pem')).fingerprint256);
    expect(state.certificate.names).toContain('203.0.113.9');
  });
});
