import { join } from 'node:path';
import type { AppState, CaCertificate, CertificateView } from '../../contract.js';
import type { TlsOptions } from '../../../server/tls-files.js';
import {
  CertificateFiles,
  checkOwnCertificate,
  createAuthority,
  inspectPair,
  issueServerCertificate,
  needsRenewal,
  type PemPair,
  type ServerNames,
} from './certificates.js';
import { namesWithin } from './name-constraints.js';
import { UserError } from '../core/errors.js';
import { CA_FILE_NAME, WILDCARDS, type Shared } from '../core/shared.js';

/**
 * Encrypted connections: TLS on or off, the household authority and the
 * server certificate it signs (renewed when a name is new or the end is
 * near), an own certificate, and what the Security screen shows of them.
 */
export class Tls {
  private readonly files: CertificateFiles;

  constructor(private readonly shared: Shared) {
    this.files = new CertificateFiles(join(shared.options.configDir, 'tls'));
  }

  private get settings() {
    return this.shared.settings;
  }

  setTls(input: { enabled: boolean }): Promise<AppState> {
    return this.shared.mutate(async () => {
      const own = (await this.files.read(this.files.own)) !== undefined;
      this.settings.tls = input.enabled ? (own ? 'own' : 'household') : 'off';
      return this.saved();
    });
  }

  async caCertificate(): Promise<CaCertificate> {
    if (this.settings.tls === 'off') throw new UserError('tls-off', 'TLS is off, so there is no certificate to give to the computers. Turn TLS on in Security.');
    const pair = this.settings.tls === 'household' ? await this.authority() : await this.files.read(this.files.own);
    if (!pair) throw new UserError('no-certificate', 'The certificate file is missing. Import your certificate again, or use the household certificate.');
    const info = inspectPair(pair);
    if (!info) throw new UserError('certificate-damaged', 'The certificate file is damaged. Import your certificate again, or use the household certificate.');
    return { fileName: CA_FILE_NAME, pem: pair.certificatePem, fingerprint: info.fingerprint };
  }

  regenerateCertificates(input: { authority: boolean }): Promise<AppState> {
    return this.shared.mutate(async () => {
      if (this.settings.tls !== 'household') {
        throw new UserError('not-household', 'Only the household certificate can be made again here. Switch to it in Security first.');
      }
      if (input.authority) {
        await this.files.write(this.files.authority, await createAuthority(this.shared.hostName()));
        this.shared.addNotice('A new household certificate authority was made: save its file again on every computer (Computers), or their backups stop.');
      }
      await this.issueServerCertificate();
      return this.shared.state();
    });
  }

  importCertificate(input: { certificatePem: string; keyPem: string }): Promise<AppState> {
    return this.shared.mutate(async () => {
      checkOwnCertificate(input);
      await this.files.write(this.files.own, input);
      this.settings.tls = 'own';
      return this.saved();
    });
  }

  useHouseholdCertificate(): Promise<AppState> {
    return this.shared.mutate(async () => {
      this.settings.tls = 'household';
      return this.saved();
    });
  }

  /** The certificate and key files the server is to use; the household one is made or renewed first. */
  async prepare(): Promise<TlsOptions | undefined> {
    if (this.settings.tls === 'off') return undefined;
    if (this.settings.tls === 'own') {
      if (!(await this.files.read(this.files.own))) {
        throw new UserError('no-certificate', 'The certificate you imported is gone from the settings folder. Import it again, or use the household certificate (Security).');
      }
      return { certFile: this.files.own.certificate, keyFile: this.files.own.key };
    }
    await this.renewIfNeeded();
    return { certFile: this.files.server.certificate, keyFile: this.files.server.key };
  }

  /** A missing, damaged, ending or incomplete server certificate is issued again (household mode); the running server swaps it in. */
  async renewIfNeeded(): Promise<void> {
    if (this.settings.tls !== 'household') return;
    const server = await this.files.read(this.files.server);
    const info = server && inspectPair(server);
    if (server && !info) this.shared.addNotice('The server certificate file was damaged; a new one was made. The computers keep working: they trust the household authority.');
    if (!info || needsRenewal(info, await this.serverNames())) await this.issueServerCertificate();
  }

  /** The certificate the server presents, and the names it covers; null with TLS off or a damaged file. */
  async served(): Promise<{ pem: string; names: string[] } | null> {
    if (this.settings.tls === 'off') return null;
    const pair = await this.files.read(this.settings.tls === 'own' ? this.files.own : this.files.server);
    const info = pair && inspectPair(pair);
    return pair && info ? { pem: pair.certificatePem, names: info.names } : null;
  }

  /** What Security shows, and when the served certificate ends (for the status). */
  async view(): Promise<{ view: CertificateView; notAfter: Date | null }> {
    const mode = this.settings.tls;
    if (mode === 'off') return { view: { mode, fingerprint: null, serverNotAfter: null, names: [] }, notAfter: null };
    // A damaged file shows as no certificate; the state still loads and a notice says what to do.
    const trusted = await this.files.read(mode === 'own' ? this.files.own : this.files.authority);
    const served = mode === 'own' ? trusted : await this.files.read(this.files.server);
    const info = served && inspectPair(served);
    return {
      view: {
        mode,
        fingerprint: (trusted && inspectPair(trusted)?.fingerprint) ?? null,
        serverNotAfter: info?.notAfter.toISOString() ?? null,
        names: info?.names ?? [],
      },
      notAfter: info?.notAfter ?? null,
    };
  }

  private async saved(): Promise<AppState> {
    await this.shared.save();
    await this.shared.reconfigure();
    return this.shared.state();
  }

  private async authority(): Promise<PemPair> {
    const existing = await this.files.read(this.files.authority);
    if (existing && !inspectPair(existing)) {
      this.shared.addNotice(
        'The household certificate authority file is damaged. Make a new authority in Security (Make a new authority); then save its file again on every computer, as their backups stop until then.',
      );
      throw new UserError(
        'authority-damaged',
        'The household certificate authority file is damaged, so no server certificate can be made. Make a new authority in Security; then save its file again on every computer.',
      );
    }
    if (existing) return existing;
    const created = await createAuthority(this.shared.hostName());
    await this.files.write(this.files.authority, created);
    return created;
  }

  private async issueServerCertificate(): Promise<void> {
    const authority = await this.authority();
    const { covered, left } = namesWithin(authority.certificatePem, this.wantedNames());
    if (left.length > 0) {
      this.shared.addNotice(
        `The household certificate may only name private addresses and local names, so it leaves out ${left.join(', ')}: computers that reach this one there cannot check it. Connect them by a name or address that Security lists, or import a certificate of your own.`,
      );
    }
    await this.files.write(this.files.server, await issueServerCertificate(authority, covered));
  }

  /** The names the server certificate should carry: the wanted ones the authority may sign (an authority made before issue 24 may sign all). */
  private async serverNames(): Promise<ServerNames> {
    const authority = await this.files.read(this.files.authority);
    const wanted = this.wantedNames();
    return authority && inspectPair(authority) ? namesWithin(authority.certificatePem, wanted).covered : wanted;
  }

  /** Every name and address computers may use to reach this one. */
  private wantedNames(): ServerNames {
    const host = this.shared.hostName().toLowerCase();
    const hostNames = ['localhost', host, ...(host.includes('.') ? [] : [`${host}.local`])];
    const chosen = Array.isArray(this.settings.listenAddresses) ? this.settings.listenAddresses.filter((address) => !WILDCARDS.has(address)) : [];
    return { hostNames, addresses: [...new Set([...this.shared.lan(), ...chosen, '127.0.0.1', '::1'])] };
  }
}
