import { useTranslation } from 'react-i18next';
import { formatDate, formatNumber } from '../../lib/format';

export interface ChartPoint {
  t: string;
  valid: number;
  rejected: number;
}

/** Stacked bars of valid and rejected calls, with the numbers as a table for screen readers. */
export function UsageChart({ points, label }: { points: ChartPoint[]; label: string }) {
  const { t, i18n } = useTranslation();
  const max = Math.max(1, ...points.map((p) => p.valid + p.rejected));
  const width = 600;
  const height = 160;
  const barWidth = points.length > 0 ? width / points.length : width;
  return (
    <figure className="w-full">
      <svg viewBox={`0 0 ${width} ${height}`} className="h-40 w-full" role="img" aria-label={label} preserveAspectRatio="none">
        {points.map((p, i) => {
          const validH = (p.valid / max) * (height - 4);
          const rejectedH = (p.rejected / max) * (height - 4);
          return (
            <g key={p.t}>
              <rect x={i * barWidth + 1} y={height - validH} width={Math.max(1, barWidth - 2)} height={validH} className="fill-indigo-500" />
              <rect x={i * barWidth + 1} y={height - validH - rejectedH} width={Math.max(1, barWidth - 2)} height={rejectedH} className="fill-red-400" />
            </g>
          );
        })}
      </svg>
      <figcaption className="mt-2 flex gap-4 text-xs text-slate-600">
        <span className="inline-flex items-center gap-1">
          <span aria-hidden="true" className="inline-block h-2 w-2 rounded-sm bg-indigo-500" /> {t('usage.valid')}
        </span>
        <span className="inline-flex items-center gap-1">
          <span aria-hidden="true" className="inline-block h-2 w-2 rounded-sm bg-red-400" /> {t('usage.rejected')}
        </span>
      </figcaption>
      <table className="sr-only">
        <caption>{label}</caption>
        <thead>
          <tr>
            <th>{t('usage.date')}</th>
            <th>{t('usage.valid')}</th>
            <th>{t('usage.rejected')}</th>
          </tr>
        </thead>
        <tbody>
          {points
            .filter((p) => p.valid + p.rejected > 0)
            .map((p) => (
              <tr key={p.t}>
                <td>{formatDate(p.t, i18n.language)}</td>
                <td>{formatNumber(p.valid, i18n.language)}</td>
                <td>{formatNumber(p.rejected, i18n.language)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}
