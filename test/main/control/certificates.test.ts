import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  CertificateFiles,
  checkOwnCertificate,
  createAuthority,
  inspectCertificate,
  issueServerCertificate,
  needsRenewal,
} from '../../../main/control/certificates.js';
import { UserError } from '../../../main/control/errors.js';
import { makeCertificates } from '../../helpers/certs.js';
import { freePort, openController, waitForState } from '../../helpers/controller.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { hasTool } from '../../helpers/tools.js';

const NAMES = { hostNames: ['localhost', 'familypc', 'familypc.local'], addresses: ['192.168.1.20', '127.0.0.1', '::1'] };
const DAY = 86_400_000;

function presentedFingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? '');
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe.runIf(hasTool('openssl'))('the household certificates', () => {
  it('an ECDSA P-256 authority signs a server certificate for every name and address, as openssl checks', async () => {
    const dir = tempDir('rts-tls-');
    const authority = await createAuthority('familypc');
    const server = await issueServerCertificate(authority, NAMES);
    const files = new CertificateFiles(dir);
    await files.write(files.authority, authority);
    await files.write(files.server, server);
    expect(statSync(files.authority.key).mode & 0o777).toBe(0o600);
    expect(statSync(files.server.key).mode & 0o777).toBe(0o600);

    const verify = execFileSync('openssl', ['verify', '-CAfile', files.authority.certificate, files.server.certificate], { encoding: 'utf8' });
    expect(verify.trim()).toBe(`${files.server.certificate}: OK`);
    const text = execFileSync('openssl', ['x509', '-in', files.server.certificate, '-noout', '-text'], { encoding: 'utf8' });
    expect(text).toContain('ASN1 OID: prime256v1');
    expect(text).toContain('TLS Web Server Authentication');
    expect(text).toMatch(/DNS:localhost, DNS:familypc, DNS:familypc\.local, IP Address:192\.168\.1\.20, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    const caText = execFileSync('openssl', ['x509', '-in', files.authority.certificate, '-noout', '-text'], { encoding: 'utf8' });
    expect(caText).toMatch(/CA:TRUE, pathlen:0/);
    expect(caText).toContain('Certificate Sign, CRL Sign');

    const ca = new X509Certificate(authority.certificatePem);
    const leaf = new X509Certificate(server.certificatePem);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.checkIP('192.168.1.20')).toBe('192.168.1.20');
    expect(leaf.checkHost('familypc.local')).toBe('familypc.local');
    const info = inspectCertificate(server.certificatePem);
    expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan(390 * DAY);
    expect(info.fingerprint).toBe(leaf.fingerprint256);
  });

  it('renews when a name is missing or the end is near, not otherwise', async () => {
    const server = await issueServerCertificate(await createAuthority('x'), NAMES);
    const info = inspectCertificate(server.certificatePem);
    const now = new Date();
    expect(needsRenewal(info, NAMES, now)).toBe(false);
    expect(needsRenewal(info, { ...NAMES, hostNames: ['LOCALHOST'] }, now)).toBe(false);
    expect(needsRenewal(info, { ...NAMES, addresses: ['192.168.1.21'] }, now)).toBe(true);
    expect(needsRenewal(info, { ...NAMES, hostNames: ['newname'] }, now)).toBe(true);
    expect(needsRenewal(info, NAMES, new Date(info.notAfter.getTime() - 31 * DAY))).toBe(false);
    expect(needsRenewal(info, NAMES, new Date(info.notAfter.getTime() - 29 * DAY))).toBe(true);
  });

  it('checks an own certificate and key before taking them', () => {
    const own = makeCertificates('Own');
    const other = makeCertificates('Other');
    const pair = { certificatePem: readFileSync(own.certFile, 'utf8'), keyPem: readFileSync(own.keyFile, 'utf8') };
    expect(checkOwnCertificate(pair).names).toEqual(['127.0.0.1', 'localhost']);
    const refused = (change: Partial<typeof pair>, now?: Date) => {
      try {
        checkOwnCertificate({ ...pair, ...change }, now);
      } catch (error) {
        return (error as UserError).code;
      }
      return 'accepted';
    };
    expect(refused({ keyPem: readFileSync(other.keyFile, 'utf8') })).toBe('key-mismatch');
    expect(refused({ certificatePem: 'hello' })).toBe('bad-certificate');
    expect(refused({ keyPem: 'hello' })).toBe('bad-key');
    expect(refused({}, new Date(Date.now() + 60 * DAY))).toBe('certificate-expired');
  });

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
});

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
