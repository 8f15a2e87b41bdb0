import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { ResticServer } from '../../server/server.js';
import { makeCertificates, type Certificates } from '../helpers/certs.js';
import { get, post, send } from '../helpers/http.js';
import { runCli, startCli } from '../helpers/cli-process.js';
import { sleep } from '../helpers/raw-socket.js';
import { makeSourceTree, restic, resticOk, snapshotCount } from '../helpers/restic.js';
import { startServer } from '../helpers/running-server.js';
import { tempDir } from '../helpers/temp-dir.js';
import { hasTool } from '../helpers/tools.js';

/** Copies a certificate pair to where the server reads it, as a renewal would. */
function install(from: Certificates, to: { certFile: string; keyFile: string }): void {
  copyFileSync(from.keyFile, to.keyFile);
  copyFileSync(from.certFile, to.certFile);
}

function fetchOver(agent: Agent, port: number, ca: string, path = '/'): Promise<{ status: number; issuer: string; socket: TLSSocket }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method: 'POST', agent, ca: readFileSync(ca) }, (res) => {
      const socket = res.socket as TLSSocket;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, issuer: String(socket.getPeerCertificate().issuer.CN), socket }));
    })
      .on('error', reject)
      .end();
  });
}

describe.skipIf(!hasTool('openssl'))('TLS', () => {
  it('refuses to start with a missing certificate or a key that does not belong to it', async () => {
    const one = makeCertificates('One');
    const two = makeCertificates('Two');
    const path = tempDir();
    await expect(ResticServer.create({ path, noAuth: true, tls: { certFile: join(path, 'public_key'), keyFile: one.keyFile } })).rejects.toThrow(
      /TLS certificate .*public_key does not exist/,
    );
    await expect(ResticServer.create({ path, noAuth: true, tls: { certFile: one.certFile, keyFile: two.keyFile } })).rejects.toThrow(
      /the key .* does not belong to the certificate/,
    );
    const cli = await runCli(['--path', path, '--no-auth', '--tls']);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/public_key does not exist/);
  });

  it('answers plain HTTP on the HTTPS port with 400 and “use https://”, and goes on serving HTTPS', async () => {
    const certs = makeCertificates();
    const { port, url } = await startServer({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    for (const req of [get('/config'), post('/?create=true'), { method: 'HEAD', path: '/config' }]) {
      const res = await send(url, { ...req, headers: { Connection: 'close' } });
      expect(res.status).toBe(400);
      if (req.method !== 'HEAD') expect(res.text).toBe('This server speaks HTTPS: use https:// in the address.\n');
    }
    expect(await fetchOver(new Agent(), port, certs.caFile, '/pc/?create=true')).toMatchObject({ status: 200 });
  });

  it('says in words what is wrong with a certificate or key file, and what to do', async () => {
    const good = makeCertificates('Good');
    const dir = tempDir();
    const at = (name: string, content: string | Buffer) => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const der = at('cert.der', execFileSync('openssl', ['x509', '-in', good.certFile, '-outform', 'DER']));
    const encrypted = at('encrypted.pem', execFileSync('openssl', ['pkey', '-in', good.keyFile, '-aes256', '-passout', 'pass:secret']));
    const garbage = at('garbage.pem', 'hello\n');
    const cases: [string, string, RegExp][] = [
      [garbage, good.keyFile, /certificate .*garbage\.pem is not a PEM certificate .*-----BEGIN CERTIFICATE-----/],
      [der, good.keyFile, /certificate .*cert\.der is not a PEM certificate.*openssl x509/],
      [good.keyFile, good.certFile, /holds a private key, not a certificate: are --tls-cert and --tls-key swapped\?/],
      [good.certFile, good.certFile, /key .* holds a certificate, not a private key: are --tls-cert and --tls-key swapped\?/],
      [good.certFile, encrypted, /key .*encrypted\.pem is encrypted with a passphrase.*openssl pkey/],
      [good.certFile, garbage, /key .*garbage\.pem is not a PEM private key/],
    ];
    for (const [cert, key, message] of cases) {
      const cli = await runCli(['--path', dir, '--no-auth', '--tls', '--tls-cert', cert, '--tls-key', key, '--listen', '127.0.0.1:0']);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(message);
      expect(cli.stderr).not.toMatch(/routines|no start line/);
    }
    // A certificate and its key in one file (as some tools export them) is a certificate file all the same.
    const combined = at('combined.pem', Buffer.concat([readFileSync(good.certFile), readFileSync(good.keyFile)]));
    const server = await startCli(['--path', dir, '--no-auth', '--tls', '--tls-cert', combined, '--tls-key', good.keyFile, '--listen', '127.0.0.1:0']);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it.skipIf(!hasTool('restic'))('serves restic over HTTPS with --cacert, from the rest-server default file names', { timeout: 120_000 }, async () => {
    const certs = makeCertificates();
    const path = tempDir();
    install(certs, { certFile: join(path, 'public_key'), keyFile: join(path, 'private_key') });
    const server = await startCli(['--path', path, '--no-auth', '--tls', '--listen', '127.0.0.1:0', '--tls-min-ver', '1.3']);
    const repo = `rest:https://127.0.0.1:${server.address.split(':')[1]}/pc/`;
    await resticOk(repo, ['--cacert', certs.caFile, 'init']);
    await resticOk(repo, ['--cacert', certs.caFile, 'backup', makeSourceTree(2, 100_000)]);
    expect(await snapshotCount(`${path}/pc`)).toBe(1);
    const tls12 = await new Promise<string>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: Number(server.address.split(':')[1]), ca: readFileSync(certs.caFile), maxVersion: 'TLSv1.2' });
      socket.on('secureConnect', () => resolve(`connected with ${socket.getProtocol()}`));
      socket.on('error', (error) => resolve(error.message));
    });
    expect(tls12).toMatch(/protocol version|alert/i);
    const untrusted = await restic(repo, ['snapshots'], { timeoutMs: 60_000 });
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/certificate/);
    server.child.kill('SIGTERM');
  });

  it('offers only forward-secret AEAD suites (openssl s_client)', async () => {
    const certs = makeCertificates();
    const { port } = await startServer({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    // Asynchronously: the server runs in this process.
    const handshake = (...args: string[]) =>
      new Promise<string>((resolve) => {
        const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', certs.caFile, ...args], { timeout: 10_000 }, (_, stdout) => resolve(stdout));
        child.stdin?.end();
      });
    const cipherOf = async (stdout: Promise<string>) => /Cipher is (\S+)/.exec(await stdout)?.[1];
    for (const weak of ['ECDHE-ECDSA-AES128-SHA', 'ECDHE-ECDSA-AES256-SHA384', 'AES256-SHA', 'AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE-ECDSA-ARIA128-GCM-SHA256']) {
      const result = handshake('-tls1_2', '-cipher', `${weak}:@SECLEVEL=0`);
      expect([weak, await cipherOf(result)]).toEqual([weak, '(NONE)']);
    }
    for (const strong of ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-ECDSA-CHACHA20-POLY1305']) {
      expect(await cipherOf(handshake('-tls1_2', '-cipher', strong))).toBe(strong);
    }
    expect(await cipherOf(handshake('-tls1_3'))).toMatch(/^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
  });

  it.skipIf(!hasTool('restic'))('switches to renewed certificate files while serving, without dropping open connections', { timeout: 120_000 }, async () => {
    const first = makeCertificates('First');
    const second = makeCertificates('Second');
    const files = { certFile: join(tempDir(), 'cert.pem'), keyFile: join(tempDir(), 'key.pem') };
    install(first, files);
    const { server, port, dataDir } = await startServer({ tls: files });
    const renewed = new Promise((resolve) => server.once('certificate', resolve));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const before = await fetchOver(agent, port, first.caFile, '/pc/?create=true');
    expect(before).toMatchObject({ status: 200, issuer: 'First household CA' });

    install(second, files);
    await renewed;
    const sameConnection = await fetchOver(agent, port, first.caFile, '/pc/?create=true');
    expect(sameConnection.socket).toBe(before.socket);
    expect(sameConnection.status).toBe(200);
    const fresh = await fetchOver(new Agent(), port, second.caFile, '/pc/?create=true');
    expect(fresh).toMatchObject({ status: 200, issuer: 'Second household CA' });
    agent.destroy();

    const repo = `rest:https://127.0.0.1:${port}/pc/`;
    await resticOk(repo, ['--cacert', second.caFile, 'init']);
    expect(await snapshotCount(join(dataDir, 'pc'))).toBe(0);

    // A half-renewed pair (new certificate, old key) is not taken; the working one stays.
    const warnings: string[] = [];
    server.on('warning', (message) => warnings.push(message));
    copyFileSync(first.certFile, files.certFile);
    await sleep(2500);
    expect(warnings.join('\n')).toMatch(/does not belong to the certificate.*still using the previous certificate/);
    const still = await fetchOver(new Agent(), port, second.caFile, '/pc/?create=true');
    expect(still).toMatchObject({ status: 200, issuer: 'Second household CA' });
  });
});
