import { deflateSync } from 'node:zlib';
import type { Colour } from '../contract.js';

/** The tray colours, readable on dark and light bars: a filled circle with a white ring. */
const RGB: Record<Colour, [number, number, number]> = {
  grey: [138, 148, 163],
  green: [22, 163, 74],
  yellow: [217, 119, 6],
  red: [220, 38, 38],
};

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGBA PNG of `size` pixels square, each pixel from `paint(x, y)`. */
export function encodePng(size: number, paint: (x: number, y: number) => [number, number, number, number]): Buffer {
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1);
    for (let x = 0; x < size; x++) rows.set(paint(x, y), row + 1 + x * 4);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * The tray icon for a colour. macOS wants a black "template" image that the
 * system tints for the menu bar; there the state shows as a full or hollow circle.
 */
export function trayIcon(colour: Colour, size: number, template: boolean): Buffer {
  const centre = (size - 1) / 2;
  const outer = size / 2 - 0.5;
  const ring = Math.max(1, size / 11);
  return encodePng(size, (x, y) => {
    const distance = Math.hypot(x - centre, y - centre);
    const coverage = Math.max(0, Math.min(1, outer - distance + 0.5));
    if (coverage === 0) return [0, 0, 0, 0];
    const alpha = Math.round(coverage * 255);
    if (template) {
      const hollow = colour === 'grey' && distance < outer - ring * 1.5;
      return hollow ? [0, 0, 0, 0] : [0, 0, 0, alpha];
    }
    if (distance > outer - ring) return [255, 255, 255, alpha];
    const [r, g, b] = RGB[colour];
    return [r, g, b, alpha];
  });
}
