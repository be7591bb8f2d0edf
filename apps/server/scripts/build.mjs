// Compiles the server (apps/server/src plus the workspace packages it imports) into one ES module,
// dist/cli.mjs, with esbuild. The CLI (bin/keysmith.mjs) calls this before it starts and rebuilds
// only when a source is newer than the build (about 30 ms), so neither `npm start` nor a test needs
// a manual build step. Third-party packages stay external: they are loaded from node_modules.
import { readdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(serverDir, '..', '..');
export const BUILD = join(serverDir, 'dist', 'cli.mjs');
const PACKAGES = [serverDir, join(root, 'packages', 'core'), join(root, 'packages', 'db')];

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

function sourcesTime() {
  return Math.max(...PACKAGES.flatMap((dir) => [newest(join(dir, 'src')), statSync(join(dir, 'package.json')).mtimeMs]), statSync(fileURLToPath(import.meta.url)).mtimeMs);
}

function isFresh() {
  try {
    return statSync(BUILD).mtimeMs >= sourcesTime();
  } catch {
    return false;
  }
}

/** Builds dist/cli.mjs unless it is newer than every source; returns its path. */
export async function ensureBuild({ force = false } = {}) {
  if (!force && isFresh()) return BUILD;
  const { build } = await import('esbuild');
  const external = [
    ...new Set(PACKAGES.flatMap((dir) => Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).dependencies ?? {}))),
  ].filter((name) => !name.startsWith('@keysmith/'));
  // Several processes may start at once (tests, a cluster): each writes its own file, then renames it
  // into place atomically, so nobody ever imports half a file.
  const temp = `${BUILD}.${process.pid}.${Date.now()}.tmp.mjs`;
  await build({
    entryPoints: [join(serverDir, 'src', 'cli.ts')],
    outfile: temp,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external,
    logLevel: 'warning',
    // Bundled CommonJS helpers may call require(); give the module one.
    banner: { js: "import { createRequire as __keysmithRequire } from 'node:module';\nconst require = __keysmithRequire(import.meta.url);" },
  });
  renameSync(temp, BUILD);
  return BUILD;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await ensureBuild({ force: process.argv.includes('--force') });
  console.log('server: build is up to date');
}
