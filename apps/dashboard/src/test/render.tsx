import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import { Tooltip } from 'radix-ui';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { Toaster } from 'sonner';
import { vi } from 'vitest';

export interface Call {
  method: string;
  url: string;
  body: unknown;
}

/**
 * Answers the dashboard's fetch calls from a table of routes, recording each call, so a
 * component can be tested without a server (the e2e suite covers the real one).
 */
export function fakeApi(routes: Record<string, (body: unknown) => { status?: number; json?: unknown }>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const method = init.method ?? 'GET';
    const body: unknown = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, url, body });
    const path = url.split('?')[0];
    const handler = routes[`${method} ${path}`];
    const result = handler ? handler(body) : { status: 404, json: { error: { code: 'NOT_FOUND', message: `no fake for ${method} ${path}` } } };
    const status = result.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(result.json ?? {}), { status, headers: { 'content-type': 'application/json' } });
  });
  return calls;
}

export function renderWithProviders(ui: ReactElement) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const utils = render(
    <QueryClientProvider client={client}>
      <Tooltip.Provider>
        <MemoryRouter>{ui}</MemoryRouter>
        <Toaster />
      </Tooltip.Provider>
    </QueryClientProvider>,
  );
  return { ...utils, client };
}
