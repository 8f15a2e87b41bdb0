import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
// electron-builder's own check of a configuration against its schema.
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration: (config: unknown, logger: { isEnabled: boolean; add: () => void }) => Promise<void>;
};
const quiet = { isEnabled: false, add: () => undefined };
const config = load(readFileSync('electron-builder.yml', 'utf8')) as Record<string, unknown> & { electronFuses: Record<string, boolean> };

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema (which does refuse a wrong one)', async () => {
    await validateConfiguration(config, quiet);
    await expect(validateConfiguration({ ...config, nsis: { perMachinee: false } }, quiet)).rejects.toThrow(/Invalid configuration object.[^]*configuration.nsis/);
  });

  it('hardens the release with fuses', () => {
    expect(config.asar).toBe(true);
    expect(config.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it('builds per-user installers for every system from existing assets', () => {
    expect(config).toMatchObject({ linux: { target: ['AppImage', 'deb'] }, win: { target: ['nsis'] }, nsis: { perMachine: false }, mac: { target: ['dmg'] } });
    const icons = [config.icon, ...['linux', 'win', 'mac'].map((os) => (config[os] as { icon: string }).icon)] as string[];
    for (const icon of icons) expect([icon, existsSync(icon)]).toEqual([icon, true]);
    const png = readFileSync('assets/icon.png');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1024, 1024]);
  });

  it('ships restic per platform from where scripts/bundle-restic.mjs unpacks it', () => {
    expect(config.extraResources).toEqual([{ from: 'build/restic/${os}-${arch}', to: 'restic' }]);
  });

  it('packs the app’s entry point', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { main: string };
    expect(pkg.main).toBe('dist/main/electron/main.js');
    expect(existsSync(pkg.main)).toBe(true);
    expect(existsSync('dist/main/electron/preload.cjs')).toBe(true);
  });
});
