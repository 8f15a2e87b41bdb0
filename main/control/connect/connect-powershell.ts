import type { SetupFacts, SetupSteps } from './connect-script.js';
import { powershellNewLaptopSteps } from './new-laptop-script.js';
import { SHELLS } from '../core/shell-quote.js';
import { POWERSHELL_COMMAND } from './installed-command.js';

const q = SHELLS.powershell.quote;

/**
 * What the line runs when the fetch failed. Why it failed is read at run
 * time from `[RtsSetupFetch]::Problem` as a value: the error's text is never
 * written into code that Invoke-Expression runs (it can hold any quote).
 */
const FAILED_FETCH =
  "Write-Host ('Restic Tray Server: the backup server could not be verified (its certificate is not the one this line expects, or it did not answer: ' + [RtsSetupFetch]::Problem + '): make a new line in the app on the backup desktop (the computer page, Connect this computer) and check the address it shows.') -ForegroundColor Red";

/**
 * C# compiled on the computer by Add-Type (Windows PowerShell 5.1 and
 * PowerShell 7 alike): fetches a URL only from a server whose certificate
 * has this SHA-256 fingerprint. A script block as the validation callback
 * would run on a thread without a PowerShell runspace, so it is C#.
 */
const FETCH_CSHARP =
  'using System;using System.Net.Http;using System.Security.Cryptography;' +
  'public static class RtsSetupFetch{public static string Problem="";public static string Get(string url,string pin){' +
  'var handler=new HttpClientHandler();' +
  'handler.ServerCertificateCustomValidationCallback=(message,certificate,chain,errors)=>{using(var sha=SHA256.Create()){return BitConverter.ToString(sha.ComputeHash(certificate.RawData)).Replace("-","")==pin;}};' +
  'try{using(var client=new HttpClient(handler)){return client.GetAsync(url).Result.Content.ReadAsStringAsync().Result;}}' +
  'catch(Exception error){while(error.InnerException!=null)error=error.InnerException;' +
  `Problem=error.Message;return "${FAILED_FETCH}";}}}`;

/**
 * C# for the set-up script: whether the server answers at `url` with a
 * certificate for that name that the household authority vouches for: the
 * chain must build, and end at the authority. .NET 5 and later (PowerShell
 * 7.1+) build it with the authority as the only trust anchor
 * (CustomRootTrust); .NET Framework (Windows PowerShell 5.1) and older .NET
 * have no custom trust store, so there an unknown root is allowed and must
 * be the authority itself (reflection picks the way, as one source compiles
 * on both). With the server's own certificate given as the authority, that
 * very certificate is the pin.
 */
const CHECK_CSHARP =
  'using System;using System.Net.Http;using System.Net.Security;using System.Security.Cryptography.X509Certificates;' +
  'public static class RtsSetupCheck{' +
  'static bool Trusted(X509Certificate2 served,X509Certificate2 ca){' +
  'if(served.Thumbprint==ca.Thumbprint)return DateTime.Now>=served.NotBefore&&DateTime.Now<=served.NotAfter;' +
  'var chain=new X509Chain();var policy=chain.ChainPolicy;policy.RevocationMode=X509RevocationMode.NoCheck;' +
  'var trustMode=typeof(X509ChainPolicy).GetProperty("TrustMode");' +
  'if(trustMode!=null){' +
  'trustMode.SetValue(policy,Enum.Parse(trustMode.PropertyType,"CustomRootTrust"),null);' +
  '((X509Certificate2Collection)typeof(X509ChainPolicy).GetProperty("CustomTrustStore").GetValue(policy,null)).Add(ca);' +
  '}else{policy.VerificationFlags=X509VerificationFlags.AllowUnknownCertificateAuthority;policy.ExtraStore.Add(ca);}' +
  'if(!chain.Build(served))return false;' +
  'return chain.ChainElements[chain.ChainElements.Count-1].Certificate.Thumbprint==ca.Thumbprint;}' +
  'static HttpClientHandler Handler(string authority){' +
  'var ca=new X509Certificate2(Convert.FromBase64String(authority));' +
  'var handler=new HttpClientHandler();' +
  'handler.ServerCertificateCustomValidationCallback=(message,certificate,chain,errors)=>' +
  'certificate!=null&&(errors&(SslPolicyErrors.RemoteCertificateNameMismatch|SslPolicyErrors.RemoteCertificateNotAvailable))==0&&Trusted(certificate,ca);' +
  'return handler;}' +
  'public static bool Reaches(string url,string authority){' +
  'try{using(var client=new HttpClient(Handler(authority))){client.Timeout=TimeSpan.FromSeconds(5);client.GetAsync(url).Wait();return true;}}catch{return false;}}' +
  'public static string Send(string url,string authority,string body){' +
  'try{using(var client=new HttpClient(Handler(authority))){client.Timeout=TimeSpan.FromMinutes(5);' +
  'return client.PostAsync(url,new StringContent(body)).Result.Content.ReadAsStringAsync().Result;}}' +
  'catch(Exception error){while(error.InnerException!=null)error=error.InnerException;return "The backup desktop did not answer ("+error.Message+").";}}}';

/** Adds a C# class on Windows PowerShell 5.1 (which needs System.Net.Http named) and PowerShell 7 alike. */
const addType = (csharp: string) =>
  `$type = @{ TypeDefinition = ${q(csharp)} }; if ($PSVersionTable.PSEdition -ne 'Core') { $type.ReferencedAssemblies = @('System.Net.Http', 'System.Core') }; Add-Type @type`;

/** `[RtsSetupCheck]` in a script: `Reaches` a server the household authority vouches for, and `Send` it a few words. */
export const CHECK_TYPE = addType(CHECK_CSHARP);

/** The Windows line: pasted into PowerShell, it fetches the set-up script with the certificate pinned and runs it. */
export function windowsLine(url: string, fingerprintHex: string): string {
  return `& { $ErrorActionPreference = 'Stop'; [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072; ${addType(FETCH_CSHARP)}; Invoke-Expression ([RtsSetupFetch]::Get(${q(url)}, ${q(fingerprintHex)})) }`;
}

/** A script that only prints why the server refused (no `exit`: it would close the user's window). */
export function powershellRefusal(message: string): string {
  return `Write-Host ${q(`Restic Tray Server: ${message}`)} -ForegroundColor Red\r\n`;
}


const CONNECT_STEPS: SetupSteps = {
  values: '',
  again: "run a new line from the app (the computer's page, Connect this computer): each line works once.",
  greeting: 'Write-Host "Connecting $Computer to the backup server."',
  checkVersion: '',
  password: String.raw`$keep = $false
if (-not (Test-Path -LiteralPath $passwordFile)) {
  Write-Host ''
  Write-Host "Choose the encryption password for this computer's backups."
  Write-Host 'Without it nobody, not you and not the backup server, can restore them: write it down and keep it safe.'
  while ($true) {
    $first = Plain (Read-Host -AsSecureString 'Encryption password (press Enter to have one made for you)')
    if ($first -eq '') {
      $letters = 'abcdefghjkmnpqrstuvwxyz23456789'
      $bytes = New-Object byte[] 24
      [Security.Cryptography.RandomNumberGenerator]::Create().GetBytes($bytes)
      $first = (($bytes | ForEach-Object { $letters[$_ % $letters.Length] }) -join '') -replace '(.{4})(?!$)', '$1-'
      Write-Host ''
      Write-Host "Your encryption password is:  $first"
      Write-Host 'Write this down now: without it nobody can restore these backups. It is not shown again.'
      Read-Host 'Press Enter once it is written down' | Out-Null
      break
    }
    if ($first.Length -lt 8) { Write-Host 'At least 8 characters, please.'; continue }
    if ((Plain (Read-Host -AsSecureString 'The same again')) -eq $first) { break }
    Write-Host 'The two were not the same; once more.'
  }
  WriteText $passwordFile $first
  Write-Host ''
  Write-Host 'A copy kept on the backup desktop can be read by whoever uses that desktop''s account, and with it these backups.'
  $keep = (Read-Host 'Keep a copy of this password on the backup desktop, so your backups can be restored even if it is forgotten? [Y/n]') -notmatch '^[nN]'
}`,
  missing: String.raw`    & restic --cacert $ca init | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail "the backup repository could not be created on the server (restic's message is above): check that the app shows the server running and its backup disk with room, then $Again" }
    Write-Host "The backup repository of $Computer was created on the server."`,
  beforeBackup: '',
};

/**
 * The Windows set-up script (Windows PowerShell 5.1 and PowerShell 7), the
 * same steps as the POSIX one: restic (offered through winget or scoop),
 * one folder whose ACL lets in only this user, the encryption password
 * asked twice hidden or made, the host name the certificate covers, init
 * only once, the first backup, a Task Scheduler task that catches up, and
 * the restic-tray-backup command. It never calls `exit`: it runs inside the
 * user's window.
 */
export function powershellSetupScript(facts: SetupFacts, authorityDerBase64: string): string {
  const steps = facts.restore ? powershellNewLaptopSteps(facts.restore) : CONNECT_STEPS;
  const values = [
    `$Computer = ${q(facts.displayName)}`,
    `$LoginUser = ${q(facts.username)}`,
    `$LoginPassword = ${q(facts.password)}`,
    `$RepoPath = ${q(facts.repoPath)}`,
    `$Port = ${facts.port}`,
    `$Candidates = @(${facts.hosts.map(q).join(', ')})`,
    `$Authority = ${q(facts.authorityPem.trim())}`,
    `$AuthorityDer = ${q(authorityDerBase64)}`,
    `$Code = ${q(facts.code)}`,
    `$CommandText = ${q(POWERSHELL_COMMAND)}`,
    steps.values,
  ].join('\r\n');
  const script = String.raw`# Restic Tray Server: connects this computer to the family's backup server.
# Made for one computer; it carries its server login. Running it again is safe.
$ErrorActionPreference = 'Stop'
${values}
function Fail([string]$Why) { throw "Restic Tray Server: $Why" }
$Again = ${q(steps.again)}
function Plain([Security.SecureString]$Secret) { [Runtime.InteropServices.Marshal]::PtrToStringBSTR([Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secret)) }
function WriteText([string]$Path, [string]$Text) { [IO.File]::WriteAllText($Path, $Text, (New-Object Text.UTF8Encoding($false))) }

${steps.greeting}
if (-not (Get-Command restic -ErrorAction SilentlyContinue)) {
  if (Get-Command winget -ErrorAction SilentlyContinue) { $how = 'winget install --exact --id restic.restic' }
  elseif (Get-Command scoop -ErrorAction SilentlyContinue) { $how = 'scoop install restic' }
  else { Fail "restic is not installed, and neither winget nor scoop was found: install restic (restic.net), then $Again" }
  $answer = Read-Host "restic, the backup program, is not installed. Install it now with: $how ? [Y/n]"
  if ($answer -match '^[nN]') { Fail "restic is needed: install it, then $Again" }
  if ($how -like 'winget*') { winget install --exact --id restic.restic --accept-source-agreements --accept-package-agreements } else { scoop install restic }
  $env:Path = [Environment]::GetEnvironmentVariable('Path', 'Machine') + ';' + [Environment]::GetEnvironmentVariable('Path', 'User')
  if (-not (Get-Command restic -ErrorAction SilentlyContinue)) { Fail 'restic was installed but is not found yet: open a new PowerShell window and run a new line.' }
}
$version = [regex]::Match((& restic version | Out-String), 'restic (\d+)\.(\d+)')
${steps.checkVersion}
$newLogin = $version.Success -and (([int]$version.Groups[1].Value -gt 0) -or ([int]$version.Groups[2].Value -ge 17))

$Dir = Join-Path $env:LOCALAPPDATA 'restic-tray-server'
New-Item -ItemType Directory -Force -Path $Dir | Out-Null
$acl = New-Object Security.AccessControl.DirectorySecurity
$acl.SetAccessRuleProtection($true, $false)
$me = [Security.Principal.WindowsIdentity]::GetCurrent().User
$acl.AddAccessRule((New-Object Security.AccessControl.FileSystemAccessRule($me, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
Set-Acl -Path $Dir -AclObject $acl
WriteText (Join-Path $Dir 'ca.pem') ($Authority + [Environment]::NewLine)

${CHECK_TYPE}
$server = $null
foreach ($candidate in $Candidates) {
  $address = if ($candidate -match ':') { "[$candidate]" } else { $candidate }
  if ([RtsSetupCheck]::Reaches("https://$($address):$Port/", $AuthorityDer)) { $server = $address; break }
}
if (-not $server) { Fail ('the backup server does not answer with its certificate at any of: ' + ($Candidates -join ', ')) }

if ($newLogin) {
  WriteText (Join-Path $Dir 'repository') ("rest:https://$($server):$Port$RepoPath")
  WriteText (Join-Path $Dir 'login.ps1') ('$env:RESTIC_REST_USERNAME = ''' + $LoginUser + '''' + [Environment]::NewLine + '$env:RESTIC_REST_PASSWORD = ''' + $LoginPassword + '''' + [Environment]::NewLine)
} else {
  WriteText (Join-Path $Dir 'repository') ("rest:https://$($LoginUser):$($LoginPassword)@$($server):$Port$RepoPath")
  Remove-Item (Join-Path $Dir 'login.ps1') -ErrorAction SilentlyContinue
}
$pathsFile = Join-Path $Dir 'paths.txt'
if (-not (Test-Path -LiteralPath $pathsFile)) {
  $folders = 'Desktop', 'Documents', 'Pictures', 'Music', 'Videos', 'Downloads' | ForEach-Object { Join-Path $env:USERPROFILE $_ } | Where-Object { Test-Path -LiteralPath $_ }
  Set-Content -Path $pathsFile -Value $folders
}

$passwordFile = Join-Path $Dir 'password'
${steps.password}

$command = Join-Path $Dir 'restic-tray-backup.ps1'
WriteText $command $CommandText
$shim = Join-Path $env:LOCALAPPDATA 'Microsoft\WindowsApps\restic-tray-backup.cmd'
WriteText $shim ('@powershell.exe -NoProfile -ExecutionPolicy Bypass -File "' + $command + '" %*' + [Environment]::NewLine)

$env:RESTIC_REPOSITORY_FILE = Join-Path $Dir 'repository'
$env:RESTIC_PASSWORD_FILE = $passwordFile
if ($newLogin) { . (Join-Path $Dir 'login.ps1') }
$ca = Join-Path $Dir 'ca.pem'
# Is the repository there, and does this password open it? Anything but a clear answer is asked again
# twice (a server the app is restarting refuses for a moment), then shown as restic said it.
$state = ''
$tries = 0
while ($state -eq '') {
  # Windows PowerShell 5.1 turns a native program's redirected error output into errors, which 'Stop' would throw.
  $ErrorActionPreference = 'Continue'
  $found = (& restic --cacert $ca cat config 2>&1 | Out-String)
  $asked = $LASTEXITCODE
  $ErrorActionPreference = 'Stop'
  if ($asked -eq 0) { $state = 'there' }
  elseif ($found -like '*does not exist*') { $state = 'missing' }
  elseif ($found -like '*wrong password*') { $state = 'other-password' }
  elseif ($found -like '*(401)*') { $state = 'refused' }
  else {
    $tries++
    if ($tries -ge 3) {
      Write-Host $found
      Fail "the backup server did not answer restic as expected (restic's message is above): check that the app shows the server running, then $Again"
    }
    Write-Host ('The backup server did not answer as expected; asking again in 3 seconds. restic said: ' + ($found.Trim() -split '\r?\n')[0])
    Start-Sleep -Seconds 3
  }
}
switch ($state) {
  'there' { Write-Host "The backups of $Computer are already on the server: they go on from there." }
  'refused' { Fail "the backup server refused the login this set-up carries: the computer's server password was changed after it was made: $Again" }
  'other-password' { Fail "the backups of $Computer are on the server, but the encryption password in $passwordFile does not open them: put the right one there, then $Again" }
  'missing' {
${steps.missing}
  }
}
# The app opens the backups with it before keeping it; the line's code allows this once.
if ($keep) { Write-Host ([RtsSetupCheck]::Send("https://$($server):$Port/.connect/$Code/keep", $AuthorityDer, [IO.File]::ReadAllText($passwordFile))) }

${steps.beforeBackup}
Write-Host 'The first backup starts now; it may take a while.'
& powershell.exe -NoProfile -ExecutionPolicy Bypass -File $command backup
if ($LASTEXITCODE -ne 0) { Fail 'the backup did not finish: see restic''s message above, then run: restic-tray-backup backup' }

$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument ('-NoProfile -ExecutionPolicy Bypass -WindowStyle Hidden -File "' + $command + '" backup -IfDue')
$trigger = New-ScheduledTaskTrigger -Daily -At '12:30'
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -DontStopIfGoingOnBatteries -AllowStartIfOnBatteries
Register-ScheduledTask -TaskName 'Restic Tray Server backup' -Action $action -Trigger $trigger -Settings $settings -Force | Out-Null

$found = [regex]::Match((& restic version | Out-String), 'restic (\d+\.\d+\.\d+)').Groups[1].Value
[RtsSetupCheck]::Reaches("https://$($server):$Port/.connect/$Code/report/Windows/$found", $AuthorityDer) | Out-Null

Write-Host ''
Write-Host "Done: $Computer backs up to the server, every day at 12:30 (or as soon as the computer is on after that)."
Write-Host 'restic-tray-backup status shows the last backup; restic-tray-backup uninstall stops the schedule (the backups stay).'
Write-Host "Settings and the encryption password are in $Dir (readable only by you)."
`;
  return script.replace(/\r?\n/g, '\r\n');
}
