/** The one way the dashboard talks to Keysmith: the public API, JSON, the session cookie. */

export interface ErrorDetail {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
  prevCursor: string | null;
  total: number;
}

const TEAM_STORAGE = 'keysmith.team';

/** The team the dashboard acts on (only its id is kept, never anything secret). */
export const currentTeam = {
  get: (): string | null => localStorage.getItem(TEAM_STORAGE),
  set: (id: string) => localStorage.setItem(TEAM_STORAGE, id),
  clear: () => localStorage.removeItem(TEAM_STORAGE),
};

/** Called when the session is gone, so the app can send the person to sign in. */
let onUnauthenticated: () => void = () => {};
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

export async function api<T>(method: string, path: string, body?: unknown, options: { team?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const team = options.team === false ? null : currentTeam.get();
  if (team) headers['x-team-id'] = team;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'The server could not be reached. Check your connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: ErrorDetail[] } } | undefined)?.error;
    if (response.status === 401 && error?.code === 'UNAUTHENTICATED') onUnauthenticated();
    throw new ApiError(response.status, error?.code ?? 'INTERNAL', error?.message ?? response.statusText, error?.details ?? []);
  }
  return json as T;
}

/** Query-string from an object, leaving out empty values. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}
