// Drives one target with autocannon and measures it. Latencies are recorded here from every
// response (autocannon's own histogram truncates to whole milliseconds, too coarse for a 2 ms p50).
import type { EventEmitter } from 'node:events';
import autocannon from 'autocannon';

export interface Target {
  /** Full URL of the POST route. */
  url: string;
  headers: Record<string, string>;
  /** A fixed body, or a function making a new body for every request. */
  body: string | (() => string);
}

export interface LoadOptions {
  connections: number;
  durationSeconds: number;
}

export interface LoadResult {
  /** 2xx answers per second over the run. */
  rps: number;
  /** Latency percentiles of 2xx answers, in milliseconds. */
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSeconds: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

/** One autocannon run (50 connections, pipelining 1 unless told otherwise); never longer than its duration + 15 s. */
export function load(target: Target, options: LoadOptions): Promise<LoadResult> {
  const url = new URL(target.url);
  const headers = { 'content-type': 'application/json', ...target.headers };
  const makeBody = target.body;
  const request: autocannon.Request =
    typeof makeBody === 'function'
      ? { method: 'POST', path: url.pathname, headers, setupRequest: (req) => ({ ...req, body: makeBody() }) }
      : { method: 'POST', path: url.pathname, headers, body: makeBody };

  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let non2xx = 0;

  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    const guard = setTimeout(
      () => {
        if (settled) return;
        settled = true;
        instance.stop();
        reject(new Error(`autocannon run against ${target.url} did not finish in time`));
      },
      (options.durationSeconds + 15) * 1000,
    );
    const instance = autocannon(
      {
        url: url.origin,
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        timeout: 10,
        requests: [request],
      },
      (error: unknown, result: autocannon.Result) => {
        clearTimeout(guard);
        if (settled) return;
        settled = true;
        if (error) return reject(error instanceof Error ? error : new Error(String(error)));
        const sorted = latencies.slice(0, count).sort();
        const duration = result.duration > 0 ? result.duration : options.durationSeconds;
        resolve({
          rps: count / duration,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          ok: count,
          non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          durationSeconds: duration,
        });
      },
    );
    // The tracker emits (client, statusCode, resBytes, responseTime in ms, as a float).
    (instance as unknown as EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode < 200 || statusCode > 299) {
        non2xx += 1;
        return;
      }
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count] = responseTime;
      count += 1;
    });
  });
}
