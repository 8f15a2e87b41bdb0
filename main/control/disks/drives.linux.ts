import { execFile } from 'node:child_process';
import { readFile, realpath, statfs } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { FoundDrive } from './drives.js';
import { isNetworkFileSystem } from './file-systems.js';

const run = promisify(execFile);

export interface Mount {
  device: string;
  mountPoint: string;
  fileSystem: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (text: string): string => text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/** `/proc/self/mountinfo`: `id parent major:minor root mount-point options [optional...] - type source super-options`. */
export function parseMountInfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [before, after] = line.split(' - ');
    if (!before || !after) continue;
    const mountPoint = before.split(' ')[4];
    const [fileSystem, device] = after.split(' ');
    if (!mountPoint || !fileSystem || !device) continue;
    mounts.push({ device: unescape(device), mountPoint: unescape(mountPoint), fileSystem });
  }
  return mounts;
}

/** Block devices and network shares where backups can live: not /proc, snaps, tmpfs and the like. */
export function isStorageMount(mount: Mount): boolean {
  if (isNetworkFileSystem(mount.fileSystem)) return true;
  if (!mount.device.startsWith('/dev/')) return false;
  if (['squashfs', 'iso9660', 'udf'].includes(mount.fileSystem)) return false;
  return !/^\/(proc|sys|dev|snap|boot|efi)(\/|$)/.test(mount.mountPoint) && !/^\/run\/(?!media\/)/.test(mount.mountPoint);
}

export interface BlockInfo {
  label: string;
  removable: boolean;
  /** The whole disk the partition belongs to (itself for a disk). */
  disk: string;
}

interface LsblkDevice {
  path?: string;
  label?: string | null;
  rm?: boolean | string;
  hotplug?: boolean | string;
  tran?: string | null;
  children?: LsblkDevice[];
}

const truthy = (value: boolean | string | undefined): boolean => value === true || value === '1';

/** `lsblk -J -o PATH,LABEL,RM,HOTPLUG,TRAN`: a partition is removable when its disk is (USB, SD card). */
export function parseLsblk(json: string): Map<string, BlockInfo> {
  const found = new Map<string, BlockInfo>();
  const visit = (device: LsblkDevice, parentRemovable: boolean, disk: string | undefined) => {
    const removable = parentRemovable || truthy(device.rm) || truthy(device.hotplug) || device.tran === 'usb';
    const wholeDisk = disk ?? device.path ?? '';
    if (device.path) found.set(device.path, { label: device.label ?? '', removable, disk: wholeDisk });
    for (const child of device.children ?? []) visit(child, removable, wholeDisk);
  };
  for (const device of (JSON.parse(json) as { blockdevices?: LsblkDevice[] }).blockdevices ?? []) visit(device, false, undefined);
  return found;
}

async function blockDevices(): Promise<Map<string, BlockInfo>> {
  try {
    const { stdout } = await run('lsblk', ['-J', '-o', 'PATH,LABEL,RM,HOTPLUG,TRAN'], { timeout: 5000 });
    return parseLsblk(stdout);
  } catch {
    // Without lsblk (a minimal system) the drives are still listed, without labels.
    return new Map();
  }
}

/**
 * The file system a folder is on, whatever it is (a tmpfs or a bind mount
 * too, which the drive list leaves out): the mount with the longest mount
 * point that holds the folder's real path.
 */
export async function linuxFileSystemOf(folder: string): Promise<string | null> {
  const path = await realpath(folder).catch(() => folder);
  const holds = (mountPoint: string): boolean => mountPoint === '/' || path === mountPoint || path.startsWith(`${mountPoint}/`);
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((mount) => holds(mount.mountPoint));
  // The last of equally long mount points is the one mounted over the others, the one in effect.
  const best = mounts.reduce<Mount | undefined>((found, mount) => (!found || mount.mountPoint.length >= found.mountPoint.length ? mount : found), undefined);
  return best?.fileSystem ?? null;
}

const baseName = (path: string): string => path.split('/').filter(Boolean).pop() ?? path;

export async function listLinuxDrives(): Promise<FoundDrive[]> {
  const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter(isStorageMount);
  const blocks = await blockDevices();
  const diskOf = (device: string): string => blocks.get(device)?.disk ?? device;
  const root = mounts.find((mount) => mount.mountPoint === '/');
  const systemDisk = root ? diskOf(root.device) : undefined;
  const drives: FoundDrive[] = [];
  const seen = new Set<string>();
  for (const mount of mounts) {
    if (seen.has(mount.mountPoint)) continue;
    seen.add(mount.mountPoint);
    let space;
    try {
      space = await statfs(mount.mountPoint);
    } catch {
      continue;
    }
    const block = blocks.get(mount.device);
    const network = isNetworkFileSystem(mount.fileSystem);
    drives.push({
      mountPoint: mount.mountPoint,
      label: block?.label || (mount.mountPoint === '/' ? 'System disk' : baseName(mount.mountPoint)),
      device: mount.device,
      fileSystem: mount.fileSystem,
      totalBytes: space.blocks * space.bsize,
      freeBytes: space.bavail * space.bsize,
      removable: block?.removable ?? /^\/(media|run\/media|mnt)\//.test(mount.mountPoint),
      network,
      system: !network && diskOf(mount.device) === systemDisk,
    });
  }
  return drives;
}
