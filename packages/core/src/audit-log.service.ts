import { requirePermission, type TeamAccess } from './access';
import type { AuditAction, AuditEntry, Page } from './model';
import { buildPage, decodeCursor } from './pagination';
import type { Store } from './ports';

export interface AuditView extends Omit<AuditEntry, 'teamId' | 'createdAt'> {
  createdAt: string;
}

/** Reading the audit log, newest first. */
export function createAuditLogService({ store }: { store: Store }) {
  const SORT = '-createdAt';
  return {
    async list(access: TeamAccess, query: { limit: number; cursor?: string; action?: AuditAction; targetId?: string }): Promise<Page<AuditView>> {
      requirePermission(access, 'audit.read');
      const page = { limit: query.limit, cursor: query.cursor ? decodeCursor(query.cursor, SORT, 'integer') : null };
      const filter = { teamId: access.teamId, action: query.action ?? null, targetId: query.targetId ?? null };
      const [rows, total] = await Promise.all([store.audit.list({ ...filter, page }), store.audit.count(filter)]);
      const result = buildPage(rows, page, SORT, (e) => e.createdAt, total);
      return {
        ...result,
        data: result.data.map(({ teamId: _team, createdAt, ...rest }) => ({ ...rest, createdAt: new Date(createdAt).toISOString() })),
      };
    },
  };
}
