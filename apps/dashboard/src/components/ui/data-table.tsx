import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';

export interface Column {
  label: string;
  align?: 'left' | 'right';
  /** Read by screen readers only (e.g. an actions column). */
  hidden?: boolean;
  /** The list's `sort` value for this column; the header becomes a sort button when set. */
  sortField?: string;
}

/**
 * A sortable column header: the first click sorts ascending, the next descending. The current
 * direction is announced through `aria-sort`.
 */
export function SortHeader({ field, label, sort, onSort, align = 'left' }: { field: string; label: string; sort: string; onSort: (sort: string) => void; align?: 'left' | 'right' }) {
  const { t } = useTranslation();
  const active = sort === field || sort === `-${field}`;
  const descending = sort === `-${field}`;
  return (
    <th scope="col" className={`px-3 py-2 ${align === 'right' ? 'text-right' : 'text-left'}`} aria-sort={active ? (descending ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="inline-flex items-center gap-1 font-semibold uppercase tracking-wide hover:text-slate-900" onClick={() => onSort(active && !descending ? `-${field}` : field)} aria-label={t('common.sortBy', { column: label })}>
        {label}
        <span aria-hidden="true" className="text-slate-400">
          {active ? (descending ? '↓' : '↑') : '↕'}
        </span>
      </button>
    </th>
  );
}

/**
 * A table in a card that scrolls sideways inside itself on narrow screens. Columns with a
 * `sortField` get sort buttons when `sort` and `onSort` are given.
 */
export function DataTable({ columns, children, sort, onSort }: { columns: Column[]; children: ReactNode; sort?: string; onSort?: (sort: string) => void }) {
  return (
    <div className="relative overflow-x-auto rounded-lg bg-white shadow-sm ring-1 ring-slate-200">
      <table className="min-w-full divide-y divide-slate-200 text-sm">
        <thead className="bg-slate-50 text-xs uppercase tracking-wide text-slate-600">
          <tr>
            {columns.map((c) =>
              c.sortField && sort !== undefined && onSort ? (
                <SortHeader key={c.label} field={c.sortField} label={c.label} sort={sort} onSort={onSort} align={c.align ?? 'left'} />
              ) : (
                <th key={c.label} scope="col" className={`px-3 py-2 font-semibold ${c.align === 'right' ? 'text-right' : 'text-left'}`}>
                  {c.hidden ? <span className="sr-only">{c.label}</span> : c.label}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">{children}</tbody>
      </table>
    </div>
  );
}
