import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** The e2e tests drive the production build: make sure it matches the sources. */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', '..', 'scripts', 'build-dashboard.mjs')], { stdio: 'inherit' });
}
