import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CertificateFiles,
  checkOwnCertificate,
  createAuthority,
  inspectCertificate,
  issueServerCertificate,
  needsRenewal,
} from '../../../../main/control/tls/certificates.js';
import { namesWithin } from '../../../../main/control/tls/name-constraints.js';
import { UserError } from '../../../../main/control/core/errors.js';
import { makeCertificates } from '../../../helpers/certs.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { hasTool } from '../../../helpers/tools.js';

const NAMES = { hostNames: ['localhost', 'familypc', 'familypc.local'], addresses: ['192.168.1.20', '127.0.0.1', '::1'] };
const DAY = 86_400_000;

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

  it('the authority may vouch only for private addresses and local names: openssl shows the constraints and refuses a leaf for a public name or address', async () => {
    const dir = tempDir('rts-tls-');
    const files = new CertificateFiles(dir);
    const authority = await createAuthority('FamilyPC');
    await files.write(files.authority, authority);
    const caText = execFileSync('openssl', ['x509', '-in', files.authority.certificate, '-noout', '-text'], { encoding: 'utf8' });
    expect(caText).toMatch(/X509v3 Name Constraints: critical\s+Permitted:/);
    for (const name of ['DNS:local', 'DNS:lan', 'DNS:home.arpa', 'DNS:localhost', 'DNS:familypc', 'IP:10.0.0.0/255.0.0.0', 'IP:172.16.0.0/255.240.0.0', 'IP:192.168.0.0/255.255.0.0', 'IP:127.0.0.0/255.0.0.0']) {
      expect(caText).toContain(`${name}\n`);
    }
    expect(caText).toMatch(/IP:FC00:0:0:0:0:0:0:0\/FE00:0:0:0:0:0:0:0\n/);
    expect(caText).toMatch(/IP:0:0:0:0:0:0:0:1\/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF\n/);

    const verify = async (names: { hostNames: string[]; addresses: string[] }) => {
      const leaf = join(dir, 'leaf.pem');
      writeFileSync(leaf, (await issueServerCertificate(authority, names)).certificatePem);
      const run = spawnSync('openssl', ['verify', '-CAfile', files.authority.certificate, leaf], { encoding: 'utf8' });
      return run.status === 0 ? 'OK' : run.stdout + run.stderr;
    };
    expect(await verify(NAMES)).toBe('OK');
    expect(await verify({ hostNames: ['nas.home.arpa', 'familypc', 'box.lan'], addresses: ['10.1.2.3', 'fd00::5', 'fe80::1', '100.100.1.2'] })).toBe('OK');
    expect(await verify({ hostNames: ['example.com'], addresses: [] })).toMatch(/permitted subtree violation/);
    expect(await verify({ hostNames: ['localhost'], addresses: ['203.0.113.9'] })).toMatch(/permitted subtree violation/);
    expect(await verify({ hostNames: ['localhost'], addresses: ['2001:db8::1'] })).toMatch(/permitted subtree violation/);
  });

  it('a server certificate names only what its authority may sign; an authority made before the constraints signs every name', async () => {
    const wanted = { hostNames: ['localhost', 'familypc', 'familypc.local', 'nas.example.com'], addresses: ['192.168.1.20', '100.100.1.2', '203.0.113.9', '2001:db8::1', '::1', '127.0.0.1'] };
    const constrained = await createAuthority('familypc');
    expect(namesWithin(constrained.certificatePem, wanted)).toEqual({
      covered: { hostNames: ['localhost', 'familypc', 'familypc.local'], addresses: ['192.168.1.20', '100.100.1.2', '::1', '127.0.0.1'] },
      left: ['nas.example.com', '203.0.113.9', '2001:db8::1'],
    });
    const older = readFileSync(makeCertificates('Older').caFile, 'utf8');
    expect(namesWithin(older, wanted)).toEqual({ covered: wanted, left: [] });
  });
});
