// Draws assets/icon.png (1024 px), from which electron-builder makes the Windows, macOS and Linux
// icons: a blue rounded square holding the tray's green "serving" light in a white ring.
// Run after `npm run build` (it uses the app's own PNG encoder); the result is committed.
import { writeFileSync } from 'node:fs';
import { encodePng } from '../dist/main/electron/tray-icons.js';

const SIZE = 1024;
const c = (SIZE - 1) / 2;
const clamp = (v) => Math.max(0, Math.min(1, v));

/** Coverage of a rounded square of half-width h and corner radius r at (x, y). */
function roundedSquare(x, y, h, r) {
  const dx = Math.max(Math.abs(x - c) - (h - r), 0);
  const dy = Math.max(Math.abs(y - c) - (h - r), 0);
  return clamp(r - Math.hypot(dx, dy) + 0.5);
}

const png = encodePng(SIZE, (x, y) => {
  const square = roundedSquare(x, y, 440, 190);
  if (square === 0) return [0, 0, 0, 0];
  const d = Math.hypot(x - c, y - c);
  const t = y / SIZE;
  let rgb = [Math.round(37 + 20 * t), Math.round(99 - 30 * t), Math.round(235 - 40 * t)];
  const ring = clamp(300 - d + 0.5) * clamp(d - 230 + 0.5);
  const light = clamp(175 - d + 0.5);
  const mix = (a, b, k) => a.map((v, i) => Math.round(v * (1 - k) + b[i] * k));
  rgb = mix(rgb, [255, 255, 255], ring);
  rgb = mix(rgb, [34, 197, 94], light);
  return [...rgb, Math.round(square * 255)];
});
writeFileSync('assets/icon.png', png);
