import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { inspectCertificate } from '../../../../main/control/tls/certificates.js';
import type { UserError } from '../../../../main/control/core/errors.js';
import { makeCertificates } from '../../../helpers/certs.js';
import { freePort, openController, waitForState } from '../../../helpers/controller.js';
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
});
