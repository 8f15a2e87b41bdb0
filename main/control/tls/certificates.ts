import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { UserError } from '../core/errors.js';
import { writeFileAtomically } from '../core/files.js';
import { householdNameConstraints } from './name-constraints.js';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Clients trust the authority, so the server certificate can be short-lived and renewed quietly. */
const SERVER_DAYS = 397;
const AUTHORITY_YEARS = 20;
/** A server certificate this close to its end is renewed. */
export const RENEW_BEFORE_DAYS = 30;

export interface PemPair {
  certificatePem: string;
  keyPem: string;
}

export interface CertificateInfo {
  fingerprint: string;
  notAfter: Date;
  /** DNS names and IP addresses from the subject alternative names. */
  names: string[];
}

/** The names a server certificate must carry: every address clients may use. */
export interface ServerNames {
  hostNames: string[];
  addresses: string[];
}

const toPem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END ${label}-----\n`;

/** A positive random serial number, as RFC 5280 asks (at most 20 bytes, high bit clear). */
const serialNumber = (): string => {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
};

const generateKeys = (): Promise<CryptoKeyPair> =>
  webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

async function exportKey(key: CryptoKey): Promise<string> {
  return toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
}

/**
 * A household certificate authority: ECDSA P-256, valid for twenty years, may
 * sign server certificates only, and only for private addresses, local names
 * and this computer's host name.
 */
export async function createAuthority(hostName: string, now = new Date()): Promise<PemPair> {
  const keys = await generateKeys();
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(now.getUTCFullYear() + AUTHORITY_YEARS);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      name: [{ CN: [`Restic Tray Server household authority (${hostName})`] }, { O: ['Restic Tray Server'] }],
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter,
      keys,
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        householdNameConstraints(hostName),
      ],
    },
    webcrypto,
  );
  return { certificatePem: certificate.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** A server certificate signed by the authority, valid for every name and address given. */
export async function issueServerCertificate(authority: PemPair, names: ServerNames, now = new Date()): Promise<PemPair> {
  const keys = await generateKeys();
  const issuer = new x509.X509Certificate(authority.certificatePem);
  const sans: x509.JsonGeneralName[] = [
    ...names.hostNames.map((value) => ({ type: 'dns' as const, value })),
    ...names.addresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  const certificate = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: [{ CN: [names.hostNames[0] ?? names.addresses[0] ?? 'localhost'] }],
      issuer: issuer.subject,
      notBefore: new Date(now.getTime() - DAY_MS),
      notAfter: new Date(now.getTime() + SERVER_DAYS * DAY_MS),
      publicKey: keys.publicKey,
      signingKey: await importKey(authority.keyPem),
      signingAlgorithm: ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(sans),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(issuer, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certificatePem: certificate.toString('pem') + '\n', keyPem: await exportKey(keys.privateKey) };
}

/** One spelling per address: Node writes IPv6 in full (`0:0:0:0:0:0:0:1`), people write `::1`. */
const canonical = (name: string): string =>
  isIP(name) === 6 ? new URL(`http://[${name}]/`).hostname.slice(1, -1) : name.toLowerCase();

/** Reads what the GUI shows of a certificate (the first one of a PEM chain). */
export function inspectCertificate(pem: string): CertificateInfo {
  const certificate = new X509Certificate(pem);
  const names = (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry !== '')
    .map((entry) => canonical(entry.replace(/^(DNS|IP Address):/, '')));
  return { fingerprint: certificate.fingerprint256, notAfter: new Date(certificate.validTo), names };
}

/** Pairs already inspected: the state shows them on every refresh, and parsing a key costs milliseconds of the event loop. */
const inspected = new Map<string, CertificateInfo | undefined>();
const INSPECTED_KEPT = 8;

/**
 * What a certificate pair read from disk is good for: undefined when either
 * file does not parse or the key does not belong to the certificate (a
 * damaged file, a half-finished copy by hand).
 */
export function inspectPair(pair: PemPair): CertificateInfo | undefined {
  const key = `${pair.certificatePem}\n${pair.keyPem}`;
  if (inspected.has(key)) return inspected.get(key);
  let info: CertificateInfo | undefined;
  try {
    if (new X509Certificate(pair.certificatePem).checkPrivateKey(createPrivateKey(pair.keyPem))) info = inspectCertificate(pair.certificatePem);
  } catch {
    info = undefined;
  }
  if (inspected.size >= INSPECTED_KEPT) inspected.delete(inspected.keys().next().value as string);
  inspected.set(key, info);
  return info;
}

/** Whether a server certificate must be replaced: a name or address is missing, or its end is near. */
export function needsRenewal(info: CertificateInfo, wanted: ServerNames, now = new Date()): boolean {
  const have = new Set(info.names);
  const missing = [...wanted.hostNames, ...wanted.addresses].some((name) => !have.has(canonical(name)));
  return missing || info.notAfter.getTime() - now.getTime() < RENEW_BEFORE_DAYS * DAY_MS;
}

/** Checks a certificate and key the user brings: both parse, belong together, and the certificate is current. */
export function checkOwnCertificate(pair: PemPair, now = new Date()): CertificateInfo {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.certificatePem);
  } catch {
    throw new UserError('bad-certificate', 'This is not a PEM certificate. Choose the certificate file (it starts with -----BEGIN CERTIFICATE-----).');
  }
  let key;
  try {
    key = createPrivateKey(pair.keyPem);
  } catch {
    throw new UserError('bad-key', 'This is not an unencrypted PEM private key. Choose the key file (it starts with -----BEGIN ... PRIVATE KEY-----).');
  }
  if (!certificate.checkPrivateKey(key)) {
    throw new UserError('key-mismatch', 'The private key does not belong to this certificate. Choose the key that was made with it.');
  }
  const info = inspectCertificate(pair.certificatePem);
  if (info.notAfter.getTime() <= now.getTime()) {
    throw new UserError('certificate-expired', `This certificate expired on ${info.notAfter.toISOString().slice(0, 10)}. Choose a current one.`);
  }
  return info;
}

/** Where the certificate files live in the config folder; keys are 0600. */
export class CertificateFiles {
  readonly authority: { certificate: string; key: string };
  readonly server: { certificate: string; key: string };
  readonly own: { certificate: string; key: string };

  constructor(folder: string) {
    const pair = (name: string) => ({ certificate: join(folder, `${name}.pem`), key: join(folder, `${name}-key.pem`) });
    this.authority = pair('household-ca');
    this.server = pair('server');
    this.own = pair('own');
  }

  async read(files: { certificate: string; key: string }): Promise<PemPair | undefined> {
    try {
      return { certificatePem: await readFile(files.certificate, 'utf8'), keyPem: await readFile(files.key, 'utf8') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  /** The key first: the server watches both files and takes a pair only once they belong together. */
  async write(files: { certificate: string; key: string }, pair: PemPair): Promise<void> {
    await writeFileAtomically(files.key, pair.keyPem, 0o600);
    await writeFileAtomically(files.certificate, pair.certificatePem, 0o644);
  }
}
