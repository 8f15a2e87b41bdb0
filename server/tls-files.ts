import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsOptions {
  certFile: string;
  keyFile: string;
  minVersion?: TlsMinVersion;
}

/**
 * Only forward-secret AEAD suites: ECDHE with AES-GCM or ChaCha20-Poly1305 for
 * TLS 1.2, and TLS 1.3's own (all AEAD). No CBC, SHA-1, RSA key exchange,
 * ARIA or CCM8, which Node's default list still offers. restic's Go client
 * prefers these same suites.
 */
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** How often the certificate files are looked at for changes. */
const WATCH_MS = 1000;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `the TLS ${what} ${file} does not exist. Give its place with --tls-${what === 'certificate' ? 'cert' : 'key'}, or create one (openssl req -x509 ...).`
        : `cannot read the TLS ${what} ${file} (${code ?? (error as Error).message})`,
    );
  }
}

/** What is wrong with a certificate file, in words (OpenSSL only says "no start line"); undefined when it is fine. */
function certificateProblem(file: string, pem: Buffer): string | undefined {
  const text = pem.toString('latin1');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return `the TLS certificate ${file} holds a private key, not a certificate: are --tls-cert and --tls-key swapped?`;
    return `the TLS certificate ${file} is not a PEM certificate (a text file starting with -----BEGIN CERTIFICATE-----); convert it, e.g. openssl x509 -in ${file} -out cert.pem`;
  }
  try {
    new X509Certificate(pem);
    return undefined;
  } catch {
    return `the TLS certificate ${file} is damaged (its PEM text cannot be read); copy or export it again`;
  }
}

/** What is wrong with a key file, in words; undefined when it is fine. */
function keyProblem(file: string, pem: Buffer): string | undefined {
  const text = pem.toString('latin1');
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    return `the TLS key ${file} is encrypted with a passphrase, which a server cannot type; write it unencrypted (openssl pkey -in ${file} -out key.pem) and keep that file readable only by this user`;
  }
  try {
    createPrivateKey(pem);
    return undefined;
  } catch {
    if (text.includes('-----BEGIN CERTIFICATE-----')) return `the TLS key ${file} holds a certificate, not a private key: are --tls-cert and --tls-key swapped?`;
    if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return `the TLS key ${file} is not a PEM private key (a text file starting with -----BEGIN ... PRIVATE KEY-----)`;
    return `the TLS key ${file} is damaged (its PEM text cannot be read); copy or export it again`;
  }
}

/** Reads and checks a certificate and its key: both must parse and belong together. */
export function loadTls(options: TlsOptions): SecureContextOptions {
  const cert = readPem(options.certFile, 'certificate');
  const key = readPem(options.keyFile, 'key');
  const problem = certificateProblem(options.certFile, cert) ?? keyProblem(options.keyFile, key);
  if (problem) throw new Error(problem);
  const context: SecureContextOptions = {
    cert,
    key,
    minVersion: options.minVersion ?? 'TLSv1.2',
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true,
  };
  try {
    createSecureContext(context);
  } catch (error) {
    const message = (error as Error).message;
    const hint = /key values mismatch/i.test(message)
      ? `the key ${options.keyFile} does not belong to the certificate ${options.certFile}; give the key that was made with it`
      : message;
    throw new Error(`cannot use the TLS certificate ${options.certFile} with the key ${options.keyFile}: ${hint}`);
  }
  return context;
}

/**
 * Calls `onChange` with the new certificate and key whenever either file
 * changes and the pair is usable; a half-written pair (the certificate
 * renewed, the key not yet) is reported and the next change tried again.
 */
export function watchTls(
  options: TlsOptions,
  onChange: (context: SecureContextOptions) => void,
  onProblem: (message: string) => void,
): () => void {
  const reload = () => {
    try {
      onChange(loadTls(options));
    } catch (error) {
      onProblem(`${(error as Error).message}; still using the previous certificate`);
    }
  };
  const files = [options.certFile, options.keyFile];
  for (const file of files) watchFile(file, { interval: WATCH_MS, persistent: false }, reload);
  return () => {
    for (const file of files) unwatchFile(file, reload);
  };
}
