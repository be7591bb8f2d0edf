import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useDebounced } from './use-debounced';

/**
 * A list page's state in the URL (search, filters, sort, cursor), so it survives reloads and can
 * be shared. The search box updates the URL after a pause in typing and resets the cursor.
 */
export function useListParams() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const [search, setSearch] = useState(q);
  const debounced = useDebounced(search, 300);

  const update = (changes: Record<string, string | null>) =>
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [k, v] of Object.entries(changes)) if (v) next.set(k, v);
        else next.delete(k);
        return next;
      },
      { replace: true },
    );

  useEffect(() => {
    if (debounced.trim() !== q) update({ q: debounced.trim() || null, cursor: null });
    // Only the debounced text drives this; the URL follows it.
  }, [debounced]);

  return { params, q, search, setSearch, cursor: params.get('cursor'), update };
}
