#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { parseListen } from './listen-address.js';
import { runScrubCli } from './scrub/scrub-cli.js';
import type { ResticServer, ServerOptions } from './server.js';
import type { TlsMinVersion } from './tls-files.js';
import { parseUserPolicies } from './user-policy.js';
import { VERSION } from './version.js';

const USAGE = `Usage: restic-tray-server --path DIR [flags]
       restic-tray-server scrub --path DIR [--repo NAME] [--quarantine] [--json]

A restic REST server, compatible with restic's rest-server. The scrub
command checks the repositories' files against their names (scrub --help).

Flags:
      --path DIR           data folder for the repositories (required; must exist)
      --listen ADDR        listen address: host:port, :port or unix:/path (default ":8000")
      --no-auth            disable .htpasswd authentication
      --htpasswd-file FILE the users and their passwords (default: <path>/.htpasswd)
      --proxy-auth-username HEADER
                           take the user name from this header, set by an
                           authenticating reverse proxy, instead of passwords
      --private-repos      users may only use repositories under /<user>/
      --group-accessible-repos
                           folders 0770 and files 0660, so the file system group can read them
      --append-only        enable append-only mode: nothing can be deleted but locks
      --policy FILE        per-user rights, JSON (see docs/operations.md): append-only, maintenance, quota
      --tls                serve HTTPS
      --tls-cert FILE      TLS certificate (default: <path>/public_key)
      --tls-key FILE       TLS private key (default: <path>/private_key)
      --tls-min-ver V      lowest TLS version accepted: 1.2 or 1.3 (default 1.2)
      --max-size BYTES     the most bytes all repositories together may hold
      --max-connections N  the most open connections in all (default 512)
      --max-connections-per-address N
                           the most open connections from one address (default 64)
      --no-verify-upload   do not check that uploaded objects match their SHA-256 name
      --prometheus         serve Prometheus metrics at /metrics
      --prometheus-no-auth no authentication for /metrics
      --log FILE           write an Apache combined log of every request to FILE (- for standard output)
      --debug              print every request
  -v, --version            print the version and exit
  -h, --help               print this help and exit
`;

/** The flags: the server's own options, and what only the command line uses. */
interface CliOptions {
  server: ServerOptions;
  listen: string;
  policyFile?: string;
  debug: boolean;
}

class UsageError extends Error {}

const TLS_VERSIONS: Record<string, TlsMinVersion> = { '1.2': 'TLSv1.2', '1.3': 'TLSv1.3' };

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the policy file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** Parses rest-server's flags; returns 'help' or 'version' for those. */
export function parseCli(argv: string[]): CliOptions | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        path: { type: 'string' },
        listen: { type: 'string', default: ':8000' },
        'no-auth': { type: 'boolean', default: false },
        'htpasswd-file': { type: 'string' },
        'proxy-auth-username': { type: 'string' },
        'private-repos': { type: 'boolean', default: false },
        policy: { type: 'string' },
        'append-only': { type: 'boolean', default: false },
        'group-accessible-repos': { type: 'boolean', default: false },
        'max-size': { type: 'string' },
        'max-connections': { type: 'string' },
        'max-connections-per-address': { type: 'string' },
        'no-verify-upload': { type: 'boolean', default: false },
        tls: { type: 'boolean', default: false },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-min-ver': { type: 'string', default: '1.2' },
        log: { type: 'string' },
        prometheus: { type: 'boolean', default: false },
        'prometheus-no-auth': { type: 'boolean', default: false },
        debug: { type: 'boolean', default: false },
        version: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  if (values.help) return 'help';
  if (values.version) return 'version';
  // rest-server defaults to /tmp/restic; a backup must never land in a
  // temporary folder by accident, so the folder is always named.
  if (!values.path) throw new UsageError('--path is required: the folder (or disk) where the backups are kept');
  if (values['proxy-auth-username'] === '') throw new UsageError('--proxy-auth-username needs the name of a header');
  const minVersion = TLS_VERSIONS[values['tls-min-ver']];
  if (!minVersion) throw new UsageError(`--tls-min-ver ${values['tls-min-ver']}: expected 1.2 or 1.3`);
  if (!values.tls && (values['tls-cert'] || values['tls-key'])) throw new UsageError('--tls-cert and --tls-key need --tls');
  if (values['prometheus-no-auth'] && !values.prometheus) throw new UsageError('--prometheus-no-auth needs --prometheus');
  const maxSize = values['max-size'] === undefined ? undefined : Number(values['max-size']);
  if (maxSize !== undefined && !(/^\d+$/.test(values['max-size'] ?? '') && Number.isSafeInteger(maxSize))) {
    throw new UsageError(`--max-size ${values['max-size']}: expected a whole number of bytes`);
  }
  const count = (flag: 'max-connections' | 'max-connections-per-address'): number | undefined => {
    const text = values[flag];
    if (text === undefined) return undefined;
    if (!/^[1-9]\d{0,6}$/.test(text)) throw new UsageError(`--${flag} ${text}: expected a whole number from 1`);
    return Number(text);
  };
  return {
    server: {
      path: values.path,
      connections: { total: count('max-connections'), perAddress: count('max-connections-per-address') },
      noAuth: values['no-auth'],
      htpasswdFile: values['htpasswd-file'],
      proxyAuthUsername: values['proxy-auth-username'],
      privateRepos: values['private-repos'],
      appendOnly: values['append-only'],
      groupAccessibleRepos: values['group-accessible-repos'],
      tls: values.tls
        ? {
            certFile: resolve(values['tls-cert'] ?? join(values.path, 'public_key')),
            keyFile: resolve(values['tls-key'] ?? join(values.path, 'private_key')),
            minVersion,
          }
        : undefined,
      maxSize,
      verifyUpload: !values['no-verify-upload'],
      log: values.log,
      prometheus: values.prometheus ? { noAuth: values['prometheus-no-auth'] } : undefined,
    },
    listen: values.listen,
    policyFile: values.policy,
    debug: values.debug,
  };
}

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'scrub') return runScrubCli(argv.slice(1));
  let options;
  let target;
  try {
    options = parseCli(argv);
    if (options === 'help') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (options === 'version') {
      process.stdout.write(`restic-tray-server ${VERSION} (rest-server protocol v1 and v2) node ${process.versions.node}\n`);
      return 0;
    }
    target = parseListen(options.listen);
  } catch (error) {
    const usage = error instanceof UsageError ? `\n${USAGE}` : '';
    process.stderr.write(`error: ${(error as Error).message}\n${usage}`);
    return 2;
  }

  let server: ResticServer;
  try {
    const users = options.policyFile ? parseUserPolicies(readPolicyFile(options.policyFile), options.policyFile) : undefined;
    // Loaded here, not at the top: the scrub and --help start without the server's modules (about 190 ms here).
    const { ResticServer } = await import('./server.js');
    server = await ResticServer.create({ ...options.server, users });
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 1;
  }
  server.on('warning', (message) => process.stderr.write(`warning: ${message}\n`));
  server.on('certificate', (file) => process.stderr.write(`now using the renewed TLS certificate ${file}\n`));
  server.on('disk', (state) =>
    process.stderr.write(state.ok ? 'the backup disk is back; serving again\n' : `the backup disk is missing: ${state.reason}\n`),
  );
  if (options.debug) {
    server.on('request', (e) =>
      process.stderr.write(`${e.remoteAddress} ${e.method} ${e.path} ${e.status} ${e.bytes} bytes ${e.durationMs.toFixed(1)} ms\n`),
    );
  }

  const settings = options.server;
  process.stdout.write(`Data directory: ${server.dataPath}\n`);
  process.stdout.write(
    settings.noAuth
      ? 'Authentication disabled\n'
      : settings.proxyAuthUsername
        ? `Authentication by proxy header ${settings.proxyAuthUsername}\n`
        : 'Authentication enabled\n',
  );
  process.stdout.write(`Append only mode ${settings.appendOnly ? 'enabled' : 'disabled'}\n`);
  process.stdout.write(`Private repositories ${settings.privateRepos ? 'enabled' : 'disabled'}\n`);
  process.stdout.write(settings.tls ? `TLS enabled, certificate ${settings.tls.certFile}\n` : 'TLS disabled\n');
  if (!server.diskState.ok) process.stderr.write(`the backup disk is missing: ${server.diskState.reason}\n`);

  let address;
  try {
    address = await server.listen(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint =
      code === 'EADDRINUSE'
        ? ': the address is in use; stop the other server or choose another --listen port'
        : code === 'EACCES'
          ? ': permission denied; ports below 1024 need administrator rights, choose --listen :8000'
          : '';
    process.stderr.write(`error: cannot listen on ${options.listen}: ${(error as Error).message}${hint}\n`);
    await server.close();
    return 1;
  }
  return new Promise((resolveExit) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting now\n`);
        resolveExit(1);
        return;
      }
      stopping = true;
      process.stderr.write(`${signal}: finishing requests in flight, then stopping\n`);
      server.close().then(() => resolveExit(0), () => resolveExit(1));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    process.on('SIGHUP', () => {
      process.stderr.write('SIGHUP: reloading the password file\n');
      server.reloadUsers();
    });
    // restic's own test harness waits for exactly this line; the handlers above
    // are in place first, so a stop sent as soon as it is seen is a clean stop.
    process.stdout.write(`start server on ${address}\n`);
  });
}

const invokedDirectly = process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
