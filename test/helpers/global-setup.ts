import { execFileSync } from 'node:child_process';

/** Tests that start the command line run the built file: build it once, fresh. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
