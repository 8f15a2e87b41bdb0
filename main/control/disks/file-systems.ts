import type { Drive } from '../../contract.js';

const NETWORK_TYPES = new Set(['nfs', 'nfs4', 'cifs', 'smbfs', 'smb3', 'afpfs', 'webdav', 'fuse.sshfs', 'sshfs', '9p', 'davfs', 'fuse.rclone']);

export const isNetworkFileSystem = (fileSystem: string): boolean => NETWORK_TYPES.has(fileSystem.toLowerCase());

/** File systems kept in the computer's memory: whatever they hold is gone after a restart. */
const MEMORY_TYPES = new Set(['tmpfs', 'ramfs', 'devtmpfs']);

export const isMemoryFileSystem = (fileSystem: string): boolean => MEMORY_TYPES.has(fileSystem.toLowerCase());

const SYSTEM_DISK_WARNING =
  'This is the disk this computer runs from: if the computer breaks, is stolen or catches a virus, the backups are lost with it. An external disk used only for backups survives that.';

/** What a person should know about a drive and its file system before keeping backups on it. */
export function driveWarnings(drive: Pick<Drive, 'fileSystem' | 'network' | 'system'>): string[] {
  const type = drive.fileSystem.toLowerCase();
  if (isMemoryFileSystem(type)) {
    // Said alone: nothing else about this place matters once the backups vanish at the next restart.
    return [`This folder is in the computer’s memory (${drive.fileSystem}): everything in it is lost when the computer restarts. Choose a folder on a disk.`];
  }
  const warnings: string[] = drive.system ? [SYSTEM_DISK_WARNING] : [];
  if (['vfat', 'msdos', 'fat32', 'fat', 'fat16'].includes(type)) {
    warnings.push(
      'FAT32: no file may be larger than 4 GiB, and the file system has no journal, so unplugging it during a backup can damage it. Reformat it as exFAT, NTFS, APFS or ext4 if you can, and always use Safe eject.',
    );
  } else if (type === 'exfat') {
    warnings.push('exFAT has no journal: unplugging the disk during a backup can damage it. Always use Safe eject before unplugging.');
  }
  if (drive.network) {
    warnings.push(
      'This is a network share: backups depend on the network and on the other computer, and a share may not guarantee that written data is really on its disk. A disk plugged into this computer is safer.',
    );
  }
  return warnings;
}
