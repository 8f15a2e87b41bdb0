import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeUsbDisk } from '../../../helpers/tmpfs.js';
import { canMount } from '../../../helpers/tools.js';
import { parseDarwinMount, parseDiskutilInfo } from '../../../../main/control/disks/drives.darwin.js';
import { isStorageMount, linuxFileSystemOf, listLinuxDrives, parseLsblk, parseMountInfo } from '../../../../main/control/disks/drives.linux.js';
import { parseWindowsVolumes } from '../../../../main/control/disks/drives.win32.js';
import { driveWarnings } from '../../../../main/control/disks/file-systems.js';
import { listDrives } from '../../../../main/control/disks/drives.js';

const MOUNTINFO = `22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
23 22 0:21 / /proc rw,nosuid - proc proc rw
24 22 0:5 / /dev rw - devtmpfs udev rw
25 22 0:22 / /run rw - tmpfs tmpfs rw
40 22 7:0 / /snap/core/123 ro - squashfs /dev/loop0 ro
41 22 8:1 / /boot/efi rw - vfat /dev/sda1 rw
50 22 8:17 / /media/anna/FAMILY\\040BACKUP rw,nosuid shared:300 - exfat /dev/sdb1 rw
51 22 8:33 / /run/media/anna/OLD rw - vfat /dev/sdc1 rw
52 22 0:60 / /mnt/nas rw - cifs //nas/backups rw
53 22 0:61 / /run/user/1000/doc rw - fuse.portal portal rw`;

const LSBLK = JSON.stringify({
  blockdevices: [
    { path: '/dev/vda', label: null, rm: false, hotplug: false, tran: null, children: [{ path: '/dev/vda1', label: 'root', rm: false, hotplug: false, tran: null }] },
    { path: '/dev/sdb', label: null, rm: false, hotplug: true, tran: 'usb', children: [{ path: '/dev/sdb1', label: 'FAMILY BACKUP', rm: false, hotplug: false, tran: null }] },
    { path: '/dev/sdc', label: null, rm: '1', hotplug: '0', tran: null, children: [{ path: '/dev/sdc1', label: 'OLD', rm: '0', hotplug: '0', tran: null }] },
  ],
});

describe('drives on Linux', () => {
  it('reads mountinfo (escaped spaces included) and keeps only places for backups', () => {
    const storage = parseMountInfo(MOUNTINFO).filter(isStorageMount);
    expect(storage).toEqual([
      { device: '/dev/vda1', mountPoint: '/', fileSystem: 'ext4' },
      { device: '/dev/sdb1', mountPoint: '/media/anna/FAMILY BACKUP', fileSystem: 'exfat' },
      { device: '/dev/sdc1', mountPoint: '/run/media/anna/OLD', fileSystem: 'vfat' },
      { device: '//nas/backups', mountPoint: '/mnt/nas', fileSystem: 'cifs' },
    ]);
  });

  it('reads labels and removability from lsblk: a partition of a USB disk is removable', () => {
    const blocks = parseLsblk(LSBLK);
    expect(blocks.get('/dev/vda1')).toEqual({ label: 'root', removable: false, disk: '/dev/vda' });
    expect(blocks.get('/dev/sdb1')).toEqual({ label: 'FAMILY BACKUP', removable: true, disk: '/dev/sdb' });
    expect(blocks.get('/dev/sdc1')).toEqual({ label: 'OLD', removable: true, disk: '/dev/sdc' });
  });

  it('lists this machine’s drives with real sizes from statfs', async () => {
    const drives = await listLinuxDrives();
    const root = drives.find((drive) => drive.mountPoint === '/');
    expect(root).toBeDefined();
    expect(root?.totalBytes).toBeGreaterThan(root?.freeBytes ?? Infinity);
    expect(root?.freeBytes).toBeGreaterThan(0);
    expect(root?.system).toBe(true);
    expect((await listDrives()).find((drive) => drive.mountPoint === '/')?.warnings).toEqual(driveWarnings(root as never));
  });
});

describe('the file system of any folder on Linux', () => {
  it.runIf(process.platform === 'linux' && canMount())('names a tmpfs (bind-mounted, as a USB disk is played here) and the system disk’s own', async () => {
    const disk = new FakeUsbDisk(4);
    mkdirSync(join(disk.mountPoint, 'backups'));
    expect(await linuxFileSystemOf(join(disk.mountPoint, 'backups'))).toBe('tmpfs');
    const root = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((mount) => mount.mountPoint === '/').at(-1);
    expect(await linuxFileSystemOf('/')).toBe(root?.fileSystem);
  });
});

describe('drives on macOS', () => {
  it('reads mount output and diskutil plists', () => {
    const mounts = parseDarwinMount(`/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
devfs on /dev (devfs, local, nobrowse)
/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse, protect)
/dev/disk3s6 on /System/Volumes/VM (apfs, local, noexec, journaled, noatime, nobrowse)
/dev/disk4s1 on /Volumes/Family Backup (exfat, local, nodev, nosuid, noowners)
//anna@nas/backups on /Volumes/backups (smbfs, nodev, nosuid, mounted by anna)`);
    expect(mounts).toEqual([
      { device: '/dev/disk3s5', mountPoint: '/System/Volumes/Data', fileSystem: 'apfs' },
      { device: '/dev/disk4s1', mountPoint: '/Volumes/Family Backup', fileSystem: 'exfat' },
      { device: '//anna@nas/backups', mountPoint: '/Volumes/backups', fileSystem: 'smbfs' },
    ]);
    const info = parseDiskutilInfo(`<plist><dict><key>VolumeName</key>\n<string>Family Backup</string><key>RemovableMedia</key>\n<false/><key>Ejectable</key><true/></dict></plist>`);
    expect(info).toEqual({ label: 'Family Backup', removable: true });
  });
});

describe('drives on Windows', () => {
  it('reads the PowerShell JSON: volumes, USB disks and network drives', () => {
    const drives = parseWindowsVolumes(
      JSON.stringify([
        { letter: 'C', label: '', fs: 'NTFS', type: 'Fixed', size: 500e9, free: 100e9, bus: 'NVMe' },
        { letter: 'E', label: 'Backup', fs: 'exFAT', type: 'Fixed', size: 2e12, free: 1e12, bus: 'USB' },
        { letter: 'F', label: 'STICK', fs: 'FAT32', type: 'Removable', size: 32e9, free: 3e9, bus: 'USB' },
        { letter: 'D', label: 'DVD', fs: '', type: 'CD-ROM', size: 0, free: 0, bus: 'SATA' },
        { letter: 'Z', label: '\\\\nas\\backups', fs: 'NTFS', type: 'Network', size: 4e12, free: 1e12, bus: '' },
      ]),
    );
    expect(drives.map((d) => [d.mountPoint, d.label, d.fileSystem, d.removable, d.network, d.system])).toEqual([
      ['C:\\', 'Local disk (C:)', 'NTFS', false, false, true],
      ['E:\\', 'Backup', 'exFAT', true, false, false],
      ['F:\\', 'STICK', 'FAT32', true, false, false],
      ['Z:\\', '\\\\nas\\backups', 'NTFS', false, true, false],
    ]);
    expect(parseWindowsVolumes(JSON.stringify({ letter: 'D', label: '', fs: 'NTFS', type: 'Fixed', size: 1, free: 1, bus: 'SATA' }), 'd:')[0]?.system).toBe(true);
    expect(parseWindowsVolumes(JSON.stringify({ letter: 'C', label: 'Sys', fs: 'NTFS', type: 'Fixed', size: 1, free: 1, bus: 'SATA' }))).toHaveLength(1);
    expect(parseWindowsVolumes('')).toEqual([]);
  });
});

describe('drive warnings', () => {
  it.each([
    ['ext4', false, false, []],
    ['NTFS', false, false, []],
    ['apfs', false, false, []],
    ['vfat', false, false, [/FAT32: no file may be larger than 4 GiB/]],
    ['FAT32', false, false, [/FAT32/]],
    ['msdos', false, false, [/FAT32/]],
    ['exfat', false, false, [/exFAT has no journal/]],
    ['cifs', true, false, [/network share/]],
    ['exFAT', true, false, [/exFAT/, /network share/]],
    ['ext4', false, true, [/disk this computer runs from.*external disk/]],
    ['NTFS', false, true, [/runs from/]],
    ['tmpfs', false, false, [/^This folder is in the computer’s memory \(tmpfs\): everything in it is lost when the computer restarts\. Choose a folder on a disk\.$/]],
    ['ramfs', false, false, [/memory \(ramfs\)/]],
    ['tmpfs', false, true, [/memory \(tmpfs\)/]],
  ] as const)('%s (network: %s, system disk: %s)', (fileSystem, network, system, expected) => {
    const warnings = driveWarnings({ fileSystem, network, system });
    expect(warnings).toHaveLength(expected.length);
    expected.forEach((pattern, i) => expect(warnings[i]).toMatch(pattern));
  });
});
