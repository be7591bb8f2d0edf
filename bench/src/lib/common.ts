// What the benchmark scripts (run.ts, cpu.ts) share: settings from the environment, medians, and
// starting the bench's own servers (bench/src/servers).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, readyLine, startNode, type Child } from './procs';

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const repoRoot = resolve(benchDir, '..');

/** A number from the environment, `fallback` when unset or empty; below `min` is an error. */
export function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
}

/** The median of the finite values, NaN if there are none. */
export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export interface OwnServerOptions {
  name: string;
  /** A file of bench/src/servers. */
  file: string;
  env: Record<string, string>;
  /** Where its log goes (`<name>.log`). */
  workDir: string;
  /** Options for node itself (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** Starts one of the bench's own servers on a free port and waits for its ready line. */
export async function startOwnServer(options: OwnServerOptions): Promise<{ child: Child; origin: string; ready: Record<string, unknown> }> {
  const port = await freePort();
  const child = startNode({
    name: options.name,
    args: [...(options.nodeArgs ?? []), '--import', 'tsx', join(benchDir, 'src/servers', options.file)],
    cwd: repoRoot,
    env: { ...process.env, ...options.env, PORT: String(port) },
    logFile: join(options.workDir, `${options.name}.log`),
    pipeStdio: true,
  });
  const ready = await readyLine<{ ready: true } & Record<string, unknown>>(child, 60_000);
  return { child, origin: `http://127.0.0.1:${port}`, ready };
}
