import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { FoundDrive } from './drives.js';

const run = promisify(execFile);

/** Volumes with a drive letter and the bus of their disk, plus mapped network drives, as JSON. */
const SCRIPT = `
$volumes = Get-Volume | Where-Object DriveLetter | ForEach-Object {
  $disk = $null
  try { $disk = Get-Partition -DriveLetter $_.DriveLetter -ErrorAction Stop | Get-Disk -ErrorAction Stop } catch {}
  [pscustomobject]@{ letter = [string]$_.DriveLetter; label = [string]$_.FileSystemLabel; fs = [string]$_.FileSystemType;
    type = [string]$_.DriveType; size = [double]$_.Size; free = [double]$_.SizeRemaining; bus = if ($disk) { [string]$disk.BusType } else { '' } }
}
$shares = Get-CimInstance Win32_LogicalDisk -Filter 'DriveType=4' | ForEach-Object {
  [pscustomobject]@{ letter = $_.DeviceID.Substring(0, 1); label = [string]$_.ProviderName; fs = [string]$_.FileSystem;
    type = 'Network'; size = [double]$_.Size; free = [double]$_.FreeSpace; bus = '' }
}
@(@($volumes) + @($shares)) | ConvertTo-Json -Compress
`;

interface Volume {
  letter: string;
  label: string;
  fs: string;
  type: string;
  size: number;
  free: number;
  bus: string;
}

export function parseWindowsVolumes(json: string, systemDrive = process.env.SystemDrive ?? 'C:'): FoundDrive[] {
  const text = json.trim();
  if (text === '') return [];
  const parsed = JSON.parse(text) as Volume | Volume[];
  return (Array.isArray(parsed) ? parsed : [parsed])
    .filter((volume) => /^[A-Za-z]$/.test(volume.letter) && volume.type !== 'CD-ROM')
    .map((volume) => ({
      mountPoint: `${volume.letter.toUpperCase()}:\\`,
      label: volume.label || `${volume.type === 'Network' ? 'Network drive' : 'Local disk'} (${volume.letter.toUpperCase()}:)`,
      device: `${volume.letter.toUpperCase()}:`,
      fileSystem: volume.fs,
      totalBytes: volume.size,
      freeBytes: volume.free,
      removable: volume.type === 'Removable' || ['USB', 'SD', 'MMC'].includes(volume.bus),
      network: volume.type === 'Network',
      system: `${volume.letter.toUpperCase()}:` === systemDrive.toUpperCase(),
    }));
}

export async function listWindowsDrives(): Promise<FoundDrive[]> {
  const { stdout } = await run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', SCRIPT], { timeout: 20_000, windowsHide: true });
  return parseWindowsVolumes(stdout);
}
