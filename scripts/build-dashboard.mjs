// Builds the dashboard when its production build is missing or older than its sources.
// Runs after `npm install` and before `npm start`, so neither needs a manual build step.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const app = join(root, 'apps', 'dashboard');
const built = join(app, 'dist', 'index.html');

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const sources = [join(app, 'src'), join(app, 'index.html'), join(app, 'vite.config.ts'), join(app, 'package.json')];
const fresh = existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.filter(existsSync).map(newest));
if (fresh && !process.argv.includes('--force')) {
  console.log('dashboard: build is up to date');
} else {
  console.log('dashboard: building…');
  execFileSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'warn'], { cwd: app, stdio: 'inherit' });
}
