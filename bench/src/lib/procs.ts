// Child processes of the benchmark: every one is tracked and killed at the end, also on error.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Child {
  name: string;
  proc: ChildProcess;
  logFile: string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

const children = new Set<Child>();

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A free TCP port on 127.0.0.1 (asked of the kernel, then released for the child to take). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface StartOptions {
  name: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  /** Give the child a stdin pipe (our own servers exit when it closes) and read its stdout. */
  pipeStdio?: boolean;
}

/** Spawns `node <args>`; stdout (unless piped) and stderr go to `logFile`. */
export function startNode(options: StartOptions): Child {
  const fd = openSync(options.logFile, 'a');
  const proc = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: options.pipeStdio ? ['pipe', 'pipe', fd] : ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve();
    proc.once('exit', () => resolve());
    proc.once('error', () => resolve());
  });
  const child: Child = { name: options.name, proc, logFile: options.logFile, exited };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

export function isRunning(child: Child): boolean {
  return child.proc.exitCode === null && child.proc.signalCode === null;
}

/** The last lines of a child's log, for error messages. */
export function logTail(child: Child, lines = 20): string {
  try {
    return readFileSync(child.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Waits (at most `timeoutMs`) for the first JSON line with `ready: true` on a piped child's stdout. */
export function readyLine<T extends { ready: true }>(child: Child, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const stdout = child.proc.stdout;
    if (!stdout) return reject(new Error(`${child.name}: stdout is not piped`));
    let buffer = '';
    const finish = (error: Error | null, value?: T) => {
      clearTimeout(timer);
      stdout.off('data', onData);
      child.proc.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    };
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        try {
          const parsed = JSON.parse(line) as T;
          if (parsed && parsed.ready === true) return finish(null, parsed);
        } catch {
          // not our line
        }
      }
    };
    const onExit = () => finish(new Error(`${child.name} exited before it was ready:\n${logTail(child)}`));
    const timer = setTimeout(() => finish(new Error(`${child.name} not ready after ${timeoutMs} ms:\n${logTail(child)}`)), timeoutMs);
    stdout.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

/** Polls `url` (GET) until it answers 200, the child exits, or `timeoutMs` passes. */
export async function waitForHttp(child: Child, url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(child)) throw new Error(`${child.name} exited before it was ready:\n${logTail(child)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${logTail(child)}`);
}

/** Resident set size of a process, in MiB, from /proc/<pid>/status (null if unavailable). */
export function rssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Stops one child: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (!isRunning(child)) return;
  child.proc.stdin?.end();
  child.proc.kill('SIGTERM');
  const killed = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!killed && isRunning(child)) {
    child.proc.kill('SIGKILL');
    await Promise.race([child.exited, sleep(2000)]);
  }
}

/** Stops every child still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopChild(child)));
}

/** Last resort at process exit: SIGKILL whatever is left (synchronous). */
export function killAllNow(): void {
  for (const child of children) {
    if (isRunning(child)) child.proc.kill('SIGKILL');
  }
}
