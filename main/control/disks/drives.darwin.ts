import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { FoundDrive } from './drives.js';
import { isNetworkFileSystem } from './file-systems.js';

const run = promisify(execFile);

/** `mount` on macOS: `/dev/disk4s1 on /Volumes/Backup (msdos, local, nodev, nosuid, noowners)`. */
export function parseDarwinMount(text: string): { device: string; mountPoint: string; fileSystem: string }[] {
  const mounts = [];
  for (const line of text.split('\n')) {
    const match = /^(.+?) on (.+) \(([^,)]+)[,)]/.exec(line);
    if (!match) continue;
    const [, device, mountPoint, fileSystem] = match as unknown as [string, string, string, string];
    const network = isNetworkFileSystem(fileSystem);
    if (!network && !device.startsWith('/dev/disk')) continue;
    // The sealed system volume and its helpers are not places for backups; the data volume is shown as the system disk.
    if (mountPoint !== '/System/Volumes/Data' && /^\/System\//.test(mountPoint)) continue;
    if (mountPoint === '/') continue;
    mounts.push({ device, mountPoint, fileSystem });
  }
  return mounts;
}

/** The few keys of `diskutil info -plist` the list needs. */
export function parseDiskutilInfo(plist: string): { label: string; removable: boolean } {
  const string = (key: string) => new RegExp(`<key>${key}</key>\\s*<string>([^<]*)</string>`).exec(plist)?.[1];
  const flag = (key: string) => new RegExp(`<key>${key}</key>\\s*<(true|false)/>`).exec(plist)?.[1] === 'true';
  return {
    label: string('VolumeName') ?? '',
    removable: flag('RemovableMedia') || flag('Ejectable') || flag('External') || string('BusProtocol') === 'USB',
  };
}

export async function listDarwinDrives(): Promise<FoundDrive[]> {
  const { stdout } = await run('/sbin/mount', [], { timeout: 5000 });
  const drives: FoundDrive[] = [];
  for (const mount of parseDarwinMount(stdout)) {
    const network = isNetworkFileSystem(mount.fileSystem);
    let info = { label: mount.mountPoint.split('/').pop() ?? mount.mountPoint, removable: false };
    if (!network) {
      try {
        info = parseDiskutilInfo((await run('/usr/sbin/diskutil', ['info', '-plist', mount.device], { timeout: 5000 })).stdout);
      } catch {
        // diskutil can time out on a busy disk; the drive is listed by its folder name.
      }
    }
    let space;
    try {
      space = await statfs(mount.mountPoint);
    } catch {
      continue;
    }
    drives.push({
      mountPoint: mount.mountPoint,
      label: mount.mountPoint === '/System/Volumes/Data' ? 'System disk' : info.label,
      device: mount.device,
      fileSystem: mount.fileSystem,
      totalBytes: space.blocks * space.bsize,
      freeBytes: space.bavail * space.bsize,
      removable: info.removable,
      network,
      system: mount.mountPoint === '/' || mount.mountPoint.startsWith('/System/Volumes/'),
    });
  }
  return drives;
}
