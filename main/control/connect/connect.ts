import { createHash, randomInt, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { SetupAnswer, SetupRequest } from '../../../server/context.js';
import { SETUP_PREFIX } from '../../../server/context.js';
import type { ConnectInput, ConnectLine, OperatingSystem, SetupFile } from '../../contract.js';
import { UserError } from '../core/errors.js';
import { generatePassword } from '../core/logins.js';
import { powershellRefusal, powershellSetupScript, windowsLine } from './connect-powershell.js';
import { posixLine, refusalScript, setupScript, type SetupFacts } from './connect-script.js';
import type { ComputerRecord } from '../core/settings.js';
import type { Shared } from '../core/shared.js';
import { WrongCodes } from './wrong-codes.js';

/** A set-up line works this long, and once. */
const CODE_MS = 15 * 60_000;
/** Codes are long enough not to be guessed in a window of 20 tries: 20 characters of 31, about 99 bits. */
const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 20;
/** A set-up file may be run days later: it reports until then. */
const FILE_REPORT_MS = 7 * 24 * 3_600_000;
const SHELL = 'text/x-shellscript; charset=utf-8';
const POWERSHELL = 'text/plain; charset=utf-8';

interface Pending {
  username: string;
  /** `sh` (Linux, macOS) or `ps1` (Windows): the script the code fetches. */
  flavour: 'sh' | 'ps1';
  expiresAt: number;
  usedAt: number | null;
  /** The script reports once, at its end and before this time, what it found on the computer. */
  reportUntil: number;
  reported: boolean;
}

/** What `uname -s` (or the Windows script) reports, as the app names systems. */
const SYSTEMS: Record<string, OperatingSystem> = { Linux: 'linux', Darwin: 'macos', Windows: 'windows' };
/** The address in a Host header (`192.168.1.20:8000`, `[fd00::5]:8000`), when it is one and not a name. */
const addressIn = (host: string): string | null => {
  const address = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isIP(address) !== 0 ? address : null;
};

export interface ConnectParts {
  /** Where computers reach the server now, `https://192.168.1.20:8000/`; null while it does not serve. */
  clientUrl: () => string | null;
  /** The certificate the server presents (the line pins its key) and the names it covers; null with TLS off. */
  served: () => Promise<{ pem: string; names: string[] } | null>;
  /** The authority file the computers trust. */
  authority: () => Promise<string>;
}

/** The script a system's set-up fetches: PowerShell for Windows, POSIX sh for the rest. */
const scriptFor = (os: OperatingSystem): Pending['flavour'] => (os === 'windows' ? 'ps1' : 'sh');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const newCode = (): string => Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');

/** curl's --pinnedpubkey form of a certificate's key: the SHA-256 of its SubjectPublicKeyInfo, in base64. */
export function publicKeyPin(certificatePem: string): string {
  const spki = new X509Certificate(certificatePem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256//${createHash('sha256').update(spki).digest('base64')}`;
}

/**
 * "Connect this computer": a one-time line, valid for 15 minutes, that
 * fetches a set-up script from the server itself over HTTPS with the
 * server's key pinned. The script carries a fresh server password, made
 * when it is fetched: no password is ever shown. Wrong codes from one
 * address get slower answers, then none; from all addresses together, a
 * minute's budget is answered and the rest refused at once (`WrongCodes`).
 */
export class Connect {
  private readonly codes = new Map<string, Pending>();
  private readonly wrongCodes = new WrongCodes();

  constructor(
    private readonly shared: Shared,
    private readonly parts: ConnectParts,
  ) {
    shared.on('tick', () => this.noticeMovedAddress());
  }

  /** A computer set up with an address this computer no longer has cannot reach it: say so, and what to do. */
  private noticeMovedAddress(): void {
    if (this.shared.supervisor.phase === 'stopped') return;
    const lan = this.shared.lan();
    for (const computer of this.shared.settings.computers) {
      const address = computer.reachedAt && addressIn(computer.reachedAt);
      if (!address || lan.includes(address) || address === '127.0.0.1' || address === '::1') continue;
      this.shared.addNotice(
        `${computer.displayName} was set up to reach this server at ${address}, which this computer no longer has (now ${lan.join(', ') || 'no network'}): its backups stop. Run a new line there (its page, Connect this computer), or reserve this computer's address in the router.`,
      );
    }
  }

  private now(): number {
    return this.shared.options.now?.() ?? Date.now();
  }

  /** What a line or a file needs: the computer, TLS on and the server serving; expired codes are forgotten. */
  private async prepare(username: string): Promise<{ computer: ComputerRecord; certificate: string; clientUrl: string; now: number }> {
    const computer = this.shared.settings.computers.find((one) => one.username === username);
    if (!computer) throw new UserError('unknown-computer', 'There is no such computer.');
    const certificate = (await this.parts.served())?.pem;
    if (!certificate) throw new UserError('tls-off', 'Connecting with one line needs encrypted connections: turn TLS on in Security.');
    const clientUrl = this.parts.clientUrl();
    if (!clientUrl) throw new UserError('not-serving', 'Start the server first: the computer fetches its set-up from it.');
    const now = this.now();
    for (const [code, pending] of this.codes) if (pending.expiresAt < now && pending.reportUntil < now) this.codes.delete(code);
    return { computer, certificate, clientUrl, now };
  }

  async connectComputer(input: ConnectInput): Promise<ConnectLine> {
    const { certificate, clientUrl, now } = await this.prepare(input.username);
    const code = newCode();
    const flavour = scriptFor(input.os);
    this.codes.set(code, { username: input.username, flavour, expiresAt: now + CODE_MS, usedAt: null, reportUntil: now + 2 * CODE_MS, reported: false });
    const url = `${clientUrl.replace(/\/$/, '')}${SETUP_PREFIX}${code}/${flavour}`;
    return {
      line:
        flavour === 'ps1'
          ? windowsLine(url, new X509Certificate(certificate).fingerprint256.replaceAll(':', ''))
          : posixLine(url, publicKeyPin(certificate)),
      expiresAt: new Date(now + CODE_MS).toISOString(),
    };
  }

  /** The server's answer to `GET /.connect/<code>/sh` (or `ps1`): the script, once, or a refusal the shell prints. */
  readonly answer = async (request: SetupRequest): Promise<SetupAnswer> => {
    const [code = '', asked = '', ...rest] = request.path.split('/');
    const refusal = (status: number, message: string): SetupAnswer =>
      asked === 'ps1' ? { status, type: POWERSHELL, body: powershellRefusal(message) } : { status, type: SHELL, body: refusalScript(message) };
    const pending = this.codes.get(code);
    const now = this.now();
    if (pending && asked === 'report' && (rest.length === 2 || rest.length === 3) && pending.usedAt !== null && !pending.reported && now < pending.reportUntil) {
      return this.report(pending, rest, request.host);
    }
    if (!pending || pending.flavour !== asked || pending.usedAt !== null || pending.expiresAt < now) {
      // A valid code was told apart above by one lookup, so it is served whatever wrong ones arrive.
      const verdict = this.wrongCodes.count(request.address, now);
      if ('refused' in verdict) {
        return verdict.refused === 'address'
          ? refusal(429, 'Too many wrong set-up lines came from this computer: wait a quarter of an hour, then make a new line in the app.')
          : refusal(429, 'Too many wrong set-up lines reached the backup server in the last minute: wait a minute, then make a new line in the app (the computer’s page, Connect this computer).');
      }
      await sleep(verdict.delayMs);
      if (!pending || pending.flavour !== asked) return refusal(404, 'This set-up line is not known to the backup server: make a new one in the app (the computer’s page, Connect this computer).');
      if (pending.usedAt !== null) return refusal(410, 'This set-up line was used already: each line works once. Make a new one in the app (the computer’s page, Connect this computer).');
      return refusal(410, 'This set-up line expired (each works for 15 minutes): make a new one in the app (the computer’s page, Connect this computer).');
    }
    pending.usedAt = now;
    const computer = this.shared.settings.computers.find((one) => one.username === pending.username);
    if (!computer) return refusal(410, 'This computer was removed from the backup server.');
    const body = await this.script(computer, pending.flavour, code, now);
    this.shared.emit('note', `${computer.displayName} fetched its set-up (from ${request.address}): it now has a new server password.`, 'info');
    return { status: 200, type: pending.flavour === 'ps1' ? POWERSHELL : SHELL, body };
  };

  /**
   * The set-up script as a file, for a USB stick: made now (with a fresh
   * server password, the old one stops working), the authority inside; it
   * may report for a week.
   */
  async setupFile(input: ConnectInput): Promise<SetupFile> {
    const { computer, now } = await this.prepare(input.username);
    const code = newCode();
    const flavour = scriptFor(input.os);
    this.codes.set(code, { username: input.username, flavour, expiresAt: now, usedAt: now, reportUntil: now + FILE_REPORT_MS, reported: false });
    const content = await this.script(computer, flavour, code, now);
    return { fileName: `restic-tray-setup-${computer.username}.${flavour}`, content };
  }

  /** A fresh server password for the computer, and its set-up script that carries it; `code` is where the script reports at its end. */
  private async script(computer: ComputerRecord, flavour: 'sh' | 'ps1', code: string, now: number): Promise<string> {
    const password = generatePassword();
    await this.shared.mutate(async () => {
      await this.shared.logins.set(computer.username, password);
      this.shared.supervisor.current?.reloadUsers(true);
      computer.connectedAt = new Date(now).toISOString();
      await this.shared.save();
    });
    const clientUrl = new URL(this.parts.clientUrl() ?? '');
    const facts: SetupFacts = {
      displayName: computer.displayName,
      username: computer.username,
      password,
      repoPath: `/${computer.username}/`,
      port: Number(clientUrl.port || 443),
      hosts: [...((await this.parts.served())?.names ?? []).filter((name) => isIP(name) === 0 && name !== 'localhost'), clientUrl.hostname.replace(/^\[|\]$/g, '')],
      authorityPem: await this.parts.authority(),
      code,
    };
    return flavour === 'ps1' ? powershellSetupScript(facts, new X509Certificate(facts.authorityPem).raw.toString('base64')) : setupScript(facts);
  }

  /**
   * The script's last request, `<code>/report/<uname>/<restic version>/<scheduled | not-scheduled>`, through the
   * name or address it chose (`host`); the Windows script and older set-up files leave out the schedule.
   */
  private async report(pending: Pending, [system = '', version = '', planned = '']: string[], host: string): Promise<SetupAnswer> {
    pending.reported = true;
    const computer = this.shared.settings.computers.find((one) => one.username === pending.username);
    if (computer) {
      await this.shared.mutate(async () => {
        computer.system = Object.hasOwn(SYSTEMS, system) ? SYSTEMS[system] : undefined;
        computer.resticVersion = /^\d+\.\d+\.\d+$/.test(version) ? version : undefined;
        computer.reachedAt = host.slice(0, 300);
        computer.scheduled = planned === 'scheduled' ? true : planned === 'not-scheduled' ? false : undefined;
        await this.shared.save();
      });
    }
    return { status: 200, type: 'text/plain; charset=utf-8', body: '' };
  }
}
