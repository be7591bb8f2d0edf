import { QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Tooltip } from 'radix-ui';
import { useState, type ReactNode } from 'react';
import { Toaster, toast } from 'sonner';
import { ApiError } from '../lib/api';

export function Providers({ children }: { children: ReactNode }) {
  const [client] = useState(
    () =>
      new QueryClient({
        // Every failed read shows the server's message; a lost session is handled by a redirect instead.
        queryCache: new QueryCache({
          onError: (error, query) => {
            if (error instanceof ApiError && error.status === 401) return;
            // Background reads (the alerts bell) fail quietly: a toast every refresh would be noise.
            if (query.meta?.silent === true) return;
            toast.error(error.message, { id: error.message });
          },
        }),
        defaultOptions: {
          queries: {
            retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
            refetchOnWindowFocus: true,
          },
        },
      }),
  );
  return (
    <QueryClientProvider client={client}>
      <Tooltip.Provider delayDuration={200}>
        {children}
        <Toaster position="top-right" richColors closeButton />
      </Tooltip.Provider>
    </QueryClientProvider>
  );
}
