import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { tempDir } from './temp-dir.js';

const mounted: string[] = [];
afterAll(() => {
  for (const point of mounted.splice(0).reverse()) {
    try {
      execFileSync('umount', ['-l', point], { stdio: 'ignore' });
    } catch {
      // already unplugged by the test
    }
  }
});

/**
 * A USB disk played by a tmpfs: the tmpfs lives at a hidden place and is
 * bind-mounted at the mount point the server uses, so it can be unplugged
 * (the bare mount point stays behind) and plugged back with its contents.
 */
export class FakeUsbDisk {
  readonly mountPoint: string;
  private readonly device: string;

  /** `files`: how many files and folders it can hold at most (none: the tmpfs default). */
  constructor(sizeMb = 64, files?: number) {
    const base = tempDir('rts-usb-');
    this.device = join(base, 'device');
    this.mountPoint = join(base, 'media', 'usb');
    mkdirSync(this.device);
    mkdirSync(this.mountPoint, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755${files ? `,nr_inodes=${files}` : ''}`, 'tmpfs', this.device]);
    mounted.push(this.device);
    this.plug();
  }

  plug(): void {
    execFileSync('mount', ['--bind', this.device, this.mountPoint]);
    mounted.push(this.mountPoint);
  }

  unplug(): void {
    execFileSync('umount', ['-l', this.mountPoint]);
  }
}

/**
 * A disk of its own: an ext4 file system in an image file, loop-mounted at a
 * folder named `label`. (The kernels here have no FAT or exFAT driver, so the
 * warnings for those are tested on parsed mount tables.)
 */
export function mountDiskImage(label: string, sizeMb = 32): string {
  const base = tempDir('rts-image-');
  const image = join(base, 'disk.img');
  const mountPoint = join(base, 'media', label);
  mkdirSync(mountPoint, { recursive: true });
  execFileSync('truncate', ['-s', `${sizeMb}M`, image]);
  execFileSync('mkfs.ext4', ['-q', '-L', label, image]);
  execFileSync('mount', ['-o', 'loop', image, mountPoint]);
  mounted.push(mountPoint);
  return mountPoint;
}

/**
 * A disk that fails to read: btrfs in a loop-mounted image file. btrfs keeps
 * a checksum of every block of file data, so a byte changed in the image,
 * behind the file system's back, makes reading that file fail with EIO,
 * as a failing disk does. (This kernel has no device-mapper for an error
 * target.)
 */
export class FailingDisk {
  readonly mountPoint: string;
  private readonly image: string;

  constructor(sizeMb = 128) {
    const base = tempDir('rts-btrfs-');
    this.image = join(base, 'disk.img');
    this.mountPoint = join(base, 'media', 'failing');
    mkdirSync(this.mountPoint, { recursive: true });
    execFileSync('truncate', ['-s', `${sizeMb}M`, this.image]);
    execFileSync('mkfs.btrfs', ['-q', this.image]);
    this.mount();
  }

  /** Changes one byte of the file's data on the disk image; the file system is mounted again, with nothing cached. */
  spoil(path: string): void {
    const content = readFileSync(path);
    execFileSync('umount', [this.mountPoint]);
    const image = readFileSync(this.image);
    const at = image.indexOf(content.subarray(0, 4096));
    if (at < 0) throw new Error(`the contents of ${path} are not in the image as they are (compressed or inline?)`);
    image[at + 100] = (image[at + 100] as number) ^ 0xff;
    writeFileSync(this.image, image);
    this.mount();
  }

  private mount(): void {
    execFileSync('mount', ['-o', 'loop', this.image, this.mountPoint]);
    mounted.push(this.mountPoint);
  }
}
