// `npm run bench:cpu`: the server's own CPU time per request (user + system, read from
// /proc/<pid>/stat around each run) for the bare route and Keysmith's verification on SQLite.
// Throughput on a 2-core box swings with whatever shares the cores (autocannon is one of them);
// CPU time per request moves much less, so this is the figure to watch while tuning the hot path.
// A measurement, not a test, and not one of issue 5's targets (those are `npm run bench`).
//
// Environment (all optional): CPU_DURATION measured seconds per run (5), CPU_ROUNDS (3),
// CPU_CONNECTIONS (50), CPU_PROFILE a directory for V8 CPU profiles of both servers,
// BENCH_KEYSMITH_ROOT another checkout to measure.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, numberFromEnv, repoRoot, startOwnServer } from './lib/common';
import { createKey, signup, startKeysmith, verifyOnce } from './lib/keysmith';
import { load, type Target } from './lib/load';
import { stopAll } from './lib/procs';

const DURATION = numberFromEnv('CPU_DURATION', 5, 1);
const ROUNDS = Math.floor(numberFromEnv('CPU_ROUNDS', 3, 1));
const CONNECTIONS = Math.floor(numberFromEnv('CPU_CONNECTIONS', 50, 1));
const keysmithRoot = process.env.BENCH_KEYSMITH_ROOT ? resolve(process.env.BENCH_KEYSMITH_ROOT) : repoRoot;
const SERVICE_TOKEN = `svc_bench_${randomBytes(24).toString('hex')}`;
const TICKS_PER_SECOND = 100;

/** User and system CPU time of a process, in seconds (fields 14 and 15 of /proc/<pid>/stat). */
function cpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'keysmith-cpu-'));
  try {
    // CPU_PROFILE=<dir> writes V8 CPU profiles of both servers there when they stop.
    const profileDir = process.env.CPU_PROFILE;
    const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : (process.env.CPU_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const ks = await startKeysmith({ name: 'keysmith-sqlite', repoRoot: keysmithRoot, workDir, serviceToken: SERVICE_TOKEN, nodeArgs });
    const account = await signup(ks);
    const key = await createKey(ks, account, { name: 'cpu probe' });
    const answer = await verifyOnce(ks, SERVICE_TOKEN, key.rawKey);
    if (answer.code !== 'VALID') throw new Error(`the probe key is not VALID: ${JSON.stringify(answer)}`);
    const bare = await startOwnServer({ name: 'bare', file: 'bare.ts', env: { BARE_RESPONSE: JSON.stringify(answer) }, workDir, nodeArgs });
    const body = JSON.stringify({ key: key.rawKey });
    const headers = { authorization: `Bearer ${SERVICE_TOKEN}` };
    const targets: { name: string; pid: number; target: Target }[] = [
      { name: 'bare route', pid: bare.child.proc.pid as number, target: { url: `${bare.origin}/verify`, headers, body } },
      { name: 'keysmith verify (SQLite)', pid: ks.child.proc.pid as number, target: { url: `${ks.origin}/api/v1/keys/verify`, headers, body } },
    ];
    const perRequest = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    const rates = new Map<string, number[]>(targets.map((t) => [t.name, []]));
    for (const t of targets) await load(t.target, { connections: CONNECTIONS, durationSeconds: 2 });
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const t of targets) {
        const before = cpuSeconds(t.pid);
        const result = await load(t.target, { connections: CONNECTIONS, durationSeconds: DURATION });
        const after = cpuSeconds(t.pid);
        const user = after.user - before.user;
        const system = after.system - before.system;
        const micros = ((user + system) * 1e6) / result.ok;
        perRequest.get(t.name)?.push(micros);
        rates.get(t.name)?.push(result.rps);
        process.stdout.write(`round ${round}  ${t.name.padEnd(26)} ${micros.toFixed(2).padStart(7)} µs/req (user ${((user * 1e6) / result.ok).toFixed(1)}, system ${((system * 1e6) / result.ok).toFixed(1)})  ${Math.round(result.rps).toString().padStart(6)} req/s\n`);
      }
    }
    const bareMicros = median(perRequest.get('bare route') ?? []);
    const ksMicros = median(perRequest.get('keysmith verify (SQLite)') ?? []);
    process.stdout.write(
      `\nmedian CPU per request: bare ${bareMicros.toFixed(2)} µs, keysmith ${ksMicros.toFixed(2)} µs ` +
        `(bare / keysmith ${(bareMicros / ksMicros).toFixed(3)} ×, the req/s ratio a CPU-bound server would reach)\n`,
    );
  } finally {
    await stopAll();
    if (process.env.CPU_KEEP === '1') process.stdout.write(`(kept ${workDir})\n`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  void stopAll().then(() => process.exit(1));
});
