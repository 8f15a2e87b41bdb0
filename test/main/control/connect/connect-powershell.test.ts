import { spawnSync } from 'node:child_process';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { backedUpLaptop, servingController } from '../../../helpers/client-computer.js';
import { RESTIC_PASSWORD } from '../../../helpers/restic.js';
import { parse, parseErrors } from '../../../helpers/parsers.js';

interface Fetched {
  status: number;
  body: string;
  /** The SHA-256 fingerprint of the certificate the server showed, as the Windows line compares it. */
  fingerprint: string;
}

/** What the Windows line's C# does: GET the URL, keeping the server certificate's fingerprint. */
function fetchScript(url: string): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(url, { rejectUnauthorized: false }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256.replaceAll(':', '');
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The single-quoted PowerShell strings assigned with `name = '...'` (in the order they appear), unquoted. */
function assigned(source: string, name: string): string[] {
  const found = [...source.matchAll(new RegExp(`${name.replace('$', '\\$')} = '((?:[^']|'')*)'`, 'g'))];
  return found.map((match) => (match[1] as string).replaceAll("''", "'"));
}

/**
 * A path given to these cmdlets without -LiteralPath is a wildcard
 * pattern: `Photos [2019]` finds nothing, so a folder chosen for the backup
 * would be left out, and a full one taken as new.
 */
const WILDCARD_PATH = /\b(Test-Path|Get-ChildItem|Get-Content|Get-Item)( -Force)? [$(]/;

async function windowsSetUp() {
  const { controller } = await servingController();
  const anna = await controller.addComputer({ displayName: `Anna's "new" laptop` });
  const { line } = await controller.connectComputer({ username: anna.username, os: 'windows' });
  const [, url = '', pin = ''] = /\[RtsSetupFetch\]::Get\('([^']+)', '([0-9A-F]{64})'\)/.exec(line) ?? [];
  return { controller, anna, line, url, pin };
}

describe('connecting a Windows computer (PowerShell cannot run here: its scripts are parsed and their contents checked)', () => {
  it('the line and the script it fetches parse as PowerShell, and the C# they compile as C#; the line pins the certificate the server shows', async () => {
    const { line, url, pin } = await windowsSetUp();
    expect(parseErrors(await parse('powershell', line))).toEqual([]);
    expect(url).toMatch(/^https:\/\/[\d.]+:\d+\/\.connect\/[a-z2-9]{20}\/ps1$/);
    const fetched = await fetchScript(url);
    expect(fetched.fingerprint).toBe(pin);
    expect(fetched.status).toBe(200);
    const script = fetched.body;
    expect(parseErrors(await parse('powershell', script))).toEqual([]);
    const [command] = assigned(script, '$CommandText');
    expect(parseErrors(await parse('powershell', command ?? ''))).toEqual([]);
    expect(script).not.toMatch(WILDCARD_PATH);
    expect(command).not.toMatch(WILDCARD_PATH);
    const csharp = [...assigned(line, 'TypeDefinition'), ...assigned(script, 'TypeDefinition')];
    expect(csharp.map((source) => /public static class (\w+)/.exec(source)?.[1])).toEqual(['RtsSetupFetch', 'RtsSetupCheck']);
    for (const source of csharp) expect(parseErrors(await parse('c-sharp', source))).toEqual([]);
  });

  it('the script trusts a server only when the chain to it builds and ends at the household authority; a failed fetch never runs its error text as code', async () => {
    const { line, url } = await windowsSetUp();
    const script = (await fetchScript(url)).body;
    const [fetch = ''] = assigned(line, 'TypeDefinition');
    const [check = ''] = assigned(script, 'TypeDefinition');
    // The chain's verdict counts: it must build, and its root (the last element, not any element) must be the authority.
    expect(check).toContain('if(!chain.Build(served))return false;');
    expect(check).toContain('return chain.ChainElements[chain.ChainElements.Count-1].Certificate.Thumbprint==ca.Thumbprint;');
    expect(check).not.toMatch(/\.Any\(/);
    // .NET 5+: the authority is the only trust anchor; .NET Framework: an unknown root allowed, then required to be the authority.
    expect(check).toContain('typeof(X509ChainPolicy).GetProperty("TrustMode")');
    expect(check).toContain('Enum.Parse(trustMode.PropertyType,"CustomRootTrust")');
    expect(check).toContain('GetProperty("CustomTrustStore").GetValue(policy,null)).Add(ca)');
    expect(check).toContain('policy.VerificationFlags=X509VerificationFlags.AllowUnknownCertificateAuthority;policy.ExtraStore.Add(ca);');
    expect(check).toContain('policy.RevocationMode=X509RevocationMode.NoCheck;');
    expect(check).toContain('(errors&(SslPolicyErrors.RemoteCertificateNameMismatch|SslPolicyErrors.RemoteCertificateNotAvailable))==0');

    // The error's message goes into a field the fixed failure text reads as a value, quotes and all.
    expect(fetch).toContain('catch(Exception error){while(error.InnerException!=null)error=error.InnerException;Problem=error.Message;return "');
    expect(fetch).not.toMatch(/error\.Message\.Replace|\+ *error\.Message/);
    const failed = /Problem=error\.Message;return "([^"]*)";/.exec(fetch)?.[1] ?? '';
    expect(failed).toMatch(/^Write-Host \('Restic Tray Server: the backup server could not be verified .*' \+ \[RtsSetupFetch\]::Problem \+ '.*'\) -ForegroundColor Red$/);
    expect(parseErrors(await parse('powershell', failed))).toEqual([]);
  });

  it('what the script writes: values literal, the login only in its files, a folder for this user alone, a password file without BOM, restic’s answers to the repository check told apart, a schedule that catches up, and never an exit', async () => {
    const { url, anna } = await windowsSetUp();
    const script = (await fetchScript(url)).body;
    expect(assigned(script, '$Computer')).toEqual([`Anna's "new" laptop`]);
    expect(assigned(script, '$LoginUser')).toEqual([anna.username]);
    const [password = ''] = assigned(script, '$LoginPassword');
    expect(password).toMatch(/^[\w-]{20,}$/);
    expect(password).not.toBe(anna.password);
    expect(script.split(password)).toHaveLength(2);
    // The login is only written into the folder's files, never given to restic on its command line.
    expect(script.split('\r\n').filter((text) => text.includes('$LoginPassword') && !text.startsWith('$LoginPassword = '))).toEqual([
      expect.stringMatching(/^ {2}WriteText \(Join-Path \$Dir 'login\.ps1'\)/),
      expect.stringMatching(/^ {2}WriteText \(Join-Path \$Dir 'repository'\) \("rest:https:\/\/\$\(\$LoginUser\):\$\(\$LoginPassword\)@/),
    ]);
    for (const text of script.split('\r\n').filter((one) => /& restic\b/.test(one))) expect(text).not.toMatch(/LoginPassword|--repo|-r /);
    expect(script).toContain('$acl.SetAccessRuleProtection($true, $false)');
    expect(script).toContain("New-Object Security.AccessControl.FileSystemAccessRule($me, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')");
    expect(script).toContain('WriteText $passwordFile $first');
    expect(script).toContain('New-Object Text.UTF8Encoding($false)');
    expect(script).toContain("Read-Host -AsSecureString 'The same again'");
    expect(script).toMatch(/New-ScheduledTaskSettingsSet -StartWhenAvailable/);
    expect(script).toMatch(/winget install --exact --id restic\.restic/);
    // restic's answers to the repository check told apart as in the POSIX script (whose test runs them).
    expect(script).toContain("elseif ($found -like '*does not exist*') { $state = 'missing' }");
    expect(script).toContain("elseif ($found -like '*wrong password*') { $state = 'other-password' }");
    expect(script).toContain("elseif ($found -like '*(401)*') { $state = 'refused' }");
    expect(script).not.toMatch(/(^|[;{]\s*)exit\b/m);
    expect(script).not.toMatch(/[^\r]\n/);
  });

  it('restic-tray-backup on Windows restores, finds and checks as on Linux, and says why it cannot mount; the set-up asks to keep the password and sends it with the line’s code; the repair line’s script parses and repairs by restic’s version', async () => {
    const { controller, anna, url } = await windowsSetUp();
    const script = (await fetchScript(url)).body;
    const [command = ''] = assigned(script, '$CommandText');
    expect(parseErrors(await parse('powershell', command))).toEqual([]);
    for (const branch of ['restore', 'find', 'mount', 'check']) expect(command).toContain(`  '${branch}' {`);
    // The latest backup by default, into a new dated folder that is never one already there; a given folder must be empty.
    expect(command).toContain("$base = Join-Path $env:USERPROFILE ('restic-restore-' + (Get-Date -Format 'yyyy-MM-dd'))");
    expect(command).toContain('while (Test-Path -LiteralPath $target) { $n++; $target = "$base-$n" }');
    // Paths are taken literally: a folder named with brackets is not a wildcard that finds nothing, so a full one is refused too.
    expect(command).toContain("if ((Test-Path -LiteralPath $target) -and (Get-ChildItem -LiteralPath $target -Force | Select-Object -First 1)) { throw");
    expect(command).toContain('& restic --cacert $ca restore $snapshot --target $target @include');
    expect(command).toContain('& restic --cacert $ca find @words');
    expect(command).toContain('& restic --cacert $ca check @words');
    expect(command).toContain("'mount' { throw 'restic-tray-backup: showing the backups as a folder needs FUSE, which Windows does not have");

    expect(script).toContain("Read-Host 'Keep a copy of this password on the backup desktop, so your backups can be restored even if it is forgotten? [Y/n]') -notmatch '^[nN]'");
    expect(script).toContain('if ($keep) { Write-Host ([RtsSetupCheck]::Send("https://$($server):$Port/.connect/$Code/keep", $AuthorityDer, [IO.File]::ReadAllText($passwordFile))) }');
    const [check = ''] = assigned(script, 'TypeDefinition');
    expect(check).toContain('public static string Send(string url,string authority,string body){');
    expect(check).toContain('client.PostAsync(url,new StringContent(body))');

    const repair = await controller.repairLine({ username: anna.username, os: 'windows' });
    expect(parseErrors(await parse('powershell', repair.line))).toEqual([]);
    const repairUrl = /\[RtsSetupFetch\]::Get\('([^']+)', '[0-9A-F]{64}'\)/.exec(repair.line)?.[1] ?? '';
    const fetched = await fetchScript(repairUrl);
    expect(fetched.status).toBe(200);
    expect(parseErrors(await parse('powershell', fetched.body))).toEqual([]);
    expect(fetched.body).toContain("$newer = $version.Success -and (([int]$version.Groups[1].Value -gt 0) -or ([int]$version.Groups[2].Value -ge 16))");
    expect(fetched.body).toContain('if ($newer) { & restic --cacert $ca repair index } else { & restic --cacert $ca rebuild-index }');
    expect(fetched.body).toContain('& restic --cacert $ca repair snapshots --forget');
    expect(fetched.body).toContain('} finally {\r\n  [RtsSetupCheck]::Send("https://$server/.connect/$Code/done", $AuthorityDer, $outcome) | Out-Null');
    for (const warning of repair.expected) expect(fetched.body).toContain(warning.replaceAll("'", "''"));
    expect(fetched.body).not.toMatch(WILDCARD_PATH);
    expect(fetched.body).not.toMatch(/(^|[;{]\s*)exit\b/m);
  });

  it('a new computer’s line fetches the connect script with the kept password written into the folder only the user may open, the newest backup restored into a new folder and moved in without overwriting, before the first backup; it parses, and never calls exit', async () => {
    const { controller } = await servingController();
    const { anna } = await backedUpLaptop(controller);
    await controller.keepPassword({ username: anna.username, password: RESTIC_PASSWORD });
    const made = await controller.newLaptopLine({ username: anna.username, os: 'windows', target: 'Old laptop' });
    expect(parseErrors(await parse('powershell', made.line))).toEqual([]);
    const fetched = await fetchScript(/\[RtsSetupFetch\]::Get\('([^']+)', '[0-9A-F]{64}'\)/.exec(made.line)?.[1] ?? '');
    expect(fetched.status).toBe(200);
    const script = fetched.body;
    expect(parseErrors(await parse('powershell', script))).toEqual([]);
    expect(assigned(script, '$KeptPassword')).toEqual([RESTIC_PASSWORD, '']);
    expect(assigned(script, '$Target')).toEqual(['Old laptop']);
    expect(assigned(script, '$Snapshot')[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(script).toContain('WriteText $passwordFile $KeptPassword');
    expect(script).not.toContain('Encryption password (press Enter to have one made for you)');
    const restore = script.indexOf('& restic --cacert $ca restore $Snapshot --target $staging');
    expect(restore).toBeGreaterThan(script.indexOf("'there' { Write-Host"));
    expect(restore).toBeLessThan(script.indexOf("Write-Host 'The first backup starts now; it may take a while.'"));
    expect(script).toContain('if (-not (Test-Path -LiteralPath $there)) { Move-Item -LiteralPath $entry.FullName -Destination $there');
    expect(script).not.toMatch(WILDCARD_PATH);
    expect(script).not.toMatch(/(^|[;{]\s*)exit\b/m);
  });

  it('a used line is refused in PowerShell’s words, without closing the window', async () => {
    const { url } = await windowsSetUp();
    expect((await fetchScript(url)).status).toBe(200);
    const again = await fetchScript(url);
    expect(again.status).toBe(410);
    expect(again.body).toMatch(/^Write-Host 'Restic Tray Server: This set-up line was used already: .*' -ForegroundColor Red\r\n$/);
    expect(parseErrors(await parse('powershell', again.body))).toEqual([]);
  });
});

describe('the Linux and macOS set-up script', () => {
  it('parses as POSIX sh (dash) and as bash, with a display name full of shell characters', async () => {
    const { controller } = await servingController();
    const anna = await controller.addComputer({ displayName: `Anna's $(rm -rf ~) "laptop"` });
    const { line } = await controller.connectComputer({ username: anna.username, os: 'linux' });
    const url = /"(https:[^"]+)"/.exec(line)?.[1] ?? '';
    const script = (await fetchScript(url)).body;
    expect(script).toContain(`COMPUTER='Anna'\\''s $(rm -rf ~) "laptop"'`);
    const checked = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    expect(checked.status, checked.stderr).toBe(0);
    expect(parseErrors(await parse('bash', script))).toEqual([]);
  });
});
