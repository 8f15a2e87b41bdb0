import { createHash, randomInt, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { SetupAnswer, SetupRequest } from '../../../server/context.js';
import { SETUP_PREFIX } from '../../../server/context.js';
import type { ConnectInput, ConnectLine, NewLaptopInput, NewLaptopLine, OperatingSystem, RepairLine, SetupFile } from '../../contract.js';
import { UserError } from '../core/errors.js';
import { generatePassword } from '../core/logins.js';
import { powershellRefusal, powershellSetupScript, windowsLine } from './connect-powershell.js';
import { posixLine, refusalScript, setupScript, type SetupFacts } from './connect-script.js';
import { planRestore, restoreFacts, type RestorePlan } from './new-laptop.js';
import type { RestoreFacts } from './new-laptop-script.js';
import { EXPECTED_WARNINGS, powershellRepairScript, repairScript } from './repair-script.js';
import { setUpBy, type ComputerRecord } from '../core/settings.js';
import type { Shared } from '../core/shared.js';
import { WrongCodes } from './wrong-codes.js';

/** A set-up line works this long, and once. */
const CODE_MS = 15 * 60_000;
/** Codes are long enough not to be guessed in a window of 20 tries: 20 characters of 31, about 99 bits. */
const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const CODE_LENGTH = 20;
/** A set-up file may be run days later: it reports until then. */
const FILE_REPORT_MS = 7 * 24 * 3_600_000;
/** A repair's right to delete ends with the repair, or after this at the latest. */
const REPAIR_MS = 3_600_000;
/** A new computer's set-up reports after its restore, which may take hours. */
const RESTORE_REPORT_MS = 24 * 3_600_000;
const SHELL = 'text/x-shellscript; charset=utf-8';
const POWERSHELL = 'text/plain; charset=utf-8';
const TEXT = 'text/plain; charset=utf-8';

/** What a code fetches: the set-up script, the repair one (which may delete until it ends), or a new computer's set-up with what it restores. */
type Purpose = { purpose: 'connect' | 'repair' } | { purpose: 'new-laptop'; plan: RestorePlan };

type Pending = Purpose & {
  username: string;
  /** `sh` (Linux, macOS) or `ps1` (Windows): the script the code fetches. */
  flavour: 'sh' | 'ps1';
  expiresAt: number;
  usedAt: number | null;
  /** The script reports once, at its end and before this time, what it found on the computer. */
  reportUntil: number;
  reported: boolean;
  /** The set-up sent the encryption password to be kept (once), or the repair said it ended (once). */
  answered: boolean;
};

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
  /** Keeps a computer's encryption password, once restic on this desktop opened its backups with it (a UserError says why not). */
  keepPassword: (username: string, password: string) => Promise<void>;
  /** Lets the computer delete in its own backups until then (ms), for a repair; null ends that at once. */
  allowDeleting: (username: string, until: number | null) => Promise<void>;
  /** The damage found in its backups waits no more (a UserError when none waited). */
  repaired: (username: string) => Promise<unknown>;
  /** A computer's kept encryption password, null when none is kept (a UserError when it cannot be unlocked). */
  keptPassword: (username: string) => Promise<string | null>;
  /** restic run here on a computer's backups with its kept password, its answer as JSON (a UserError says why it cannot run). */
  readBackups: (username: string, args: string[], purpose: string) => Promise<{ ok: boolean; json: unknown; failure: string | null }>;
}

/** The script a system's set-up fetches: PowerShell for Windows, POSIX sh for the rest. */
const scriptFor = (os: OperatingSystem): Pending['flavour'] => (os === 'windows' ? 'ps1' : 'sh');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The line that fetches `url` with the served certificate pinned: PowerShell for a `ps1` script, sh for the rest. */
const lineFor = (url: string, certificate: string, now: number): ConnectLine => ({
  line: url.endsWith('/ps1') ? windowsLine(url, new X509Certificate(certificate).fingerprint256.replaceAll(':', '')) : posixLine(url, publicKeyPin(certificate)),
  expiresAt: new Date(now + CODE_MS).toISOString(),
});

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
    this.codes.set(code, { username: input.username, purpose: 'connect', flavour, expiresAt: now + CODE_MS, usedAt: null, reportUntil: now + 2 * CODE_MS, reported: false, answered: false });
    return lineFor(`${clientUrl.replace(/\/$/, '')}${SETUP_PREFIX}${code}/${flavour}`, certificate, now);
  }

  /**
   * The repair line: once, within 15 minutes, on a computer the line set up
   * (it runs with what the set-up installed there). Fetching it lets that
   * computer delete in its own backups until the repair says it ended, or
   * an hour at most.
   */
  async repairLine(input: ConnectInput): Promise<RepairLine> {
    const { computer, certificate, clientUrl, now } = await this.prepare(input.username);
    if (setUpBy(computer) !== 'line') {
      throw new UserError('set-up-by-hand', `${computer.displayName} was set up by hand: the repair line runs with what the set-up line installs there. Connect it with the line first, or repair it with the steps by hand.`);
    }
    const code = newCode();
    const flavour = scriptFor(input.os);
    this.codes.set(code, { username: input.username, purpose: 'repair', flavour, expiresAt: now + CODE_MS, usedAt: null, reportUntil: now + CODE_MS + REPAIR_MS, reported: true, answered: false });
    return { ...lineFor(`${clientUrl.replace(/\/$/, '')}${SETUP_PREFIX}${code}/${flavour}`, certificate, now), expected: EXPECTED_WARNINGS };
  }

  /**
   * The new-computer line: once, within 15 minutes, on a computer replacing
   * this one: the connect line's set-up with the kept encryption password,
   * the newest backup (read here now) restored there first.
   */
  async newLaptopLine(input: NewLaptopInput): Promise<NewLaptopLine> {
    const { computer, certificate, clientUrl, now } = await this.prepare(input.username);
    const name = computer.displayName;
    if ((await this.parts.keptPassword(computer.username)) === null) {
      const how = `Keep it first: Looking after the backups, Keep the encryption password, with the password written down when ${name} was set up.`;
      throw new UserError('not-kept', `No encryption password of ${name} is kept on this desktop, and the new computer needs it to read the backups. ${how}`);
    }
    const read = async (args: string[]) => {
      const result = await this.parts.readBackups(computer.username, args, `Reading the newest backup of ${name} for a new computer`);
      if (!result.ok) throw new UserError('restic-failed', `restic could not read ${name}’s backups here: ${result.failure}.`);
      return result.json;
    };
    const plan = await planRestore(read, input.target ?? null);
    if (!plan) throw new UserError('no-backups', `${name} has no backups yet, so there is nothing to bring back onto a new computer: connect the new computer as a computer of its own (Computers, Add a computer).`);
    const code = newCode();
    const flavour = scriptFor(input.os);
    this.codes.set(code, { username: input.username, purpose: 'new-laptop', plan, flavour, expiresAt: now + CODE_MS, usedAt: null, reportUntil: now + CODE_MS + RESTORE_REPORT_MS, reported: false, answered: true });
    const line = lineFor(`${clientUrl.replace(/\/$/, '')}${SETUP_PREFIX}${code}/${flavour}`, certificate, now);
    return { ...line, backup: { time: plan.backup.time, host: plan.backup.host }, needsRestic: plan.needsMinor > 0 ? `0.${plan.needsMinor}` : null };
  }

  /**
   * The server's answer to `GET /.connect/<code>/sh` (or `ps1`): the script, once, or a refusal the shell prints;
   * then, from that script, its report, the password it sends to be kept (`POST …/keep`) or the end of a repair (`POST …/done`).
   */
  readonly answer = async (request: SetupRequest): Promise<SetupAnswer> => {
    const [code = '', asked = '', ...rest] = request.path.split('/');
    const refusal = (status: number, message: string): SetupAnswer =>
      request.method === 'POST'
        ? { status, type: TEXT, body: `Restic Tray Server: ${message}` }
        : asked === 'ps1'
          ? { status, type: POWERSHELL, body: powershellRefusal(message) }
          : { status, type: SHELL, body: refusalScript(message) };
    const pending = this.codes.get(code);
    const now = this.now();
    const fetched = pending !== undefined && pending.usedAt !== null && now < pending.reportUntil;
    if (fetched && request.method === 'GET' && asked === 'report' && (rest.length === 2 || rest.length === 3) && !pending.reported) {
      return this.report(pending, rest, request.host);
    }
    if (fetched && request.method === 'POST' && rest.length === 0 && !pending.answered) {
      if (pending.purpose === 'connect' && asked === 'keep') return this.keep(pending, request.body);
      if (pending.purpose === 'repair' && asked === 'done') return this.repairEnded(pending, request.body === 'ok');
    }
    if (request.method === 'POST' || !pending || pending.flavour !== asked || pending.usedAt !== null || pending.expiresAt < now) {
      // A valid code was told apart above by one lookup, so it is served whatever wrong ones arrive.
      const verdict = this.wrongCodes.count(request.address, now);
      if ('refused' in verdict) {
        return verdict.refused === 'address'
          ? refusal(429, 'Too many wrong set-up lines came from this computer: wait a quarter of an hour, then make a new line in the app.')
          : refusal(429, 'Too many wrong set-up lines reached the backup server in the last minute: wait a minute, then make a new line in the app (the computer’s page, Connect this computer).');
      }
      await sleep(verdict.delayMs);
      if (pending && request.method === 'POST') return refusal(410, 'This line did what it may already: it sends a password to keep, or ends a repair, once.');
      if (!pending || pending.flavour !== asked) return refusal(404, 'This set-up line is not known to the backup server: make a new one in the app (the computer’s page, Connect this computer).');
      const where = pending.purpose === 'new-laptop' ? 'Restore, Set up a new computer with these files' : 'Connect this computer';
      if (pending.usedAt !== null) return refusal(410, `This set-up line was used already: each line works once. Make a new one in the app (the computer’s page, ${where}).`);
      return refusal(410, `This set-up line expired (each works for 15 minutes): make a new one in the app (the computer’s page, ${where}).`);
    }
    pending.usedAt = now;
    const computer = this.shared.settings.computers.find((one) => one.username === pending.username);
    if (!computer) return refusal(410, 'This computer was removed from the backup server.');
    const type = pending.flavour === 'ps1' ? POWERSHELL : SHELL;
    if (pending.purpose === 'repair') {
      await this.parts.allowDeleting(computer.username, now + REPAIR_MS);
      this.shared.emit('note', `${computer.displayName} fetched its repair (from ${request.address}): it may delete in its own backups until the repair ends, an hour at most.`, 'info');
      const facts = { displayName: computer.displayName, code };
      const body = pending.flavour === 'ps1' ? powershellRepairScript(facts, new X509Certificate(await this.parts.authority()).raw.toString('base64')) : repairScript(facts);
      return { status: 200, type, body };
    }
    if (pending.purpose === 'new-laptop') {
      const password = await this.parts.keptPassword(computer.username).catch(() => null);
      if (password === null) return refusal(410, `The encryption password of ${computer.displayName} is no longer kept on the backup desktop: keep it on its page there, then make a new line.`);
      const body = await this.script(computer, pending.flavour, code, now, restoreFacts(pending.plan, password));
      this.shared.emit('note', `A new computer fetched the set-up of ${computer.displayName} (from ${request.address}): it restores the backup of ${pending.plan.backup.time}, then backs up with a new server password.`, 'info');
      return { status: 200, type, body };
    }
    const body = await this.script(computer, pending.flavour, code, now);
    this.shared.emit('note', `${computer.displayName} fetched its set-up (from ${request.address}): it now has a new server password.`, 'info');
    return { status: 200, type, body };
  };

  /** The encryption password a set-up sends, kept once the caretaker opened the backups with it; the answer is what the script prints. */
  private async keep(pending: Pending, sent: string): Promise<SetupAnswer> {
    pending.answered = true;
    const computer = this.shared.settings.computers.find((one) => one.username === pending.username);
    const password = sent.replace(/\r?\n$/, '');
    const answer = (status: number, body: string): SetupAnswer => ({ status, type: TEXT, body });
    if (!computer) return answer(410, 'Restic Tray Server: this computer was removed from the backup server.');
    if (password === '' || /\p{Cc}/u.test(password)) return answer(400, 'The encryption password is not kept on the backup desktop: what was sent is not a password.');
    try {
      await this.parts.keepPassword(computer.username, password);
      return answer(200, `The encryption password is kept on the backup desktop: ${computer.displayName}’s page there says so.`);
    } catch (error) {
      if (!(error instanceof UserError)) this.shared.emit('note', `The encryption password ${computer.displayName}’s set-up sent could not be kept: ${(error as Error).message}.`, 'warning');
      const why = error instanceof UserError ? error.message : 'the app could not keep it.';
      return answer(422, `The encryption password is not kept on the backup desktop: ${why} It can be kept later on ${computer.displayName}’s page there.`);
    }
  }

  /** A repair said it ended (`ok` when restic's check passed): its right to delete ends now, and a passed check settles the damage found. */
  private async repairEnded(pending: Pending, checked: boolean): Promise<SetupAnswer> {
    pending.answered = true;
    await this.parts.allowDeleting(pending.username, null);
    const name = this.shared.computer(pending.username)?.displayName ?? pending.username;
    this.shared.emit(
      'note',
      checked ? `The repair of ${name}’s backups ended, and restic’s check there found no errors: it may no longer delete.` : `The repair of ${name}’s backups stopped before its check passed (its terminal says why): it may no longer delete.`,
      checked ? 'info' : 'warning',
    );
    // A UserError: nothing waited for a repair there (the damage was settled already, or found by no check).
    await (checked ? this.parts.repaired(pending.username) : Promise.resolve()).catch((error: Error) => {
      if (!(error instanceof UserError)) this.shared.emit('note', `The damage found in ${name}’s backups could not be set aside (${error.message}): press “Repaired” on its page.`, 'warning');
    });
    return { status: 200, type: TEXT, body: '' };
  }

  /**
   * The set-up script as a file, for a USB stick: made now (with a fresh
   * server password, the old one stops working), the authority inside; it
   * may report for a week.
   */
  async setupFile(input: ConnectInput): Promise<SetupFile> {
    const { computer, now } = await this.prepare(input.username);
    const code = newCode();
    const flavour = scriptFor(input.os);
    this.codes.set(code, { username: input.username, purpose: 'connect', flavour, expiresAt: now, usedAt: now, reportUntil: now + FILE_REPORT_MS, reported: false, answered: false });
    const content = await this.script(computer, flavour, code, now);
    return { fileName: `restic-tray-setup-${computer.username}.${flavour}`, content };
  }

  /** A fresh server password for the computer, and its set-up script that carries it; `code` is where the script reports at its end. */
  private async script(computer: ComputerRecord, flavour: 'sh' | 'ps1', code: string, now: number, restore?: RestoreFacts): Promise<string> {
    const password = generatePassword();
    await this.shared.mutate(async () => {
      await this.shared.logins.set(computer.username, password);
      this.shared.supervisor.current?.reloadUsers(true);
      computer.connectedAt = new Date(now).toISOString();
      computer.setUpBy = 'line';
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
      restore,
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
