import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll } from 'vitest';
import { tempDir } from './temp-dir.js';

const running: S3rver[] = [];
const environment = { SSL_CERT_FILE: process.env.SSL_CERT_FILE, AWS_CA_BUNDLE: process.env.AWS_CA_BUNDLE };
afterAll(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
  for (const [name, value] of Object.entries(environment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

/**
 * A local stand-in for S3 cloud storage (s3rver, from the npm registry) on a
 * free port of 127.0.0.1, over HTTPS with a certificate of its own as real
 * services are (restic signs uploads to a plain-HTTP S3 in a way s3rver does
 * not understand). It has one bucket, and takes s3rver's fixed keys. While
 * it runs, the rclone this process starts trusts its certificate as a real
 * service's, through the system's list (SSL_CERT_FILE); a set AWS_CA_BUNDLE
 * would make rclone 1.60's S3 refuse to start.
 */
export class S3Server {
  static readonly accessKeyId = 'S3RVER';
  static readonly secretAccessKey = 'S3RVER';
  readonly bucket = 'family-copy';

  private constructor(
    readonly endpoint: string,
    /** The certificate to trust (restic's --cacert; SSL_CERT_FILE for rclone). */
    readonly caFile: string,
    /** Where s3rver keeps the objects. */
    readonly directory: string,
  ) {}

  static async start(): Promise<S3Server> {
    const base = tempDir('rts-s3-');
    const key = join(base, 'key.pem');
    const cert = join(base, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const directory = join(base, 'objects');
    const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, key: readFileSync(key), cert: readFileSync(cert), configureBuckets: [{ name: 'family-copy' }] });
    const { port } = await server.run();
    running.push(server);
    process.env.SSL_CERT_FILE = cert;
    delete process.env.AWS_CA_BUNDLE;
    return new S3Server(`https://127.0.0.1:${port}`, cert, directory);
  }
}
