import type { Clock } from './clock';
import type { TeamAccess } from './access';
import type { AuditAction, AuditEntry } from './model';
import type { Repositories } from './ports';
import { createId, type Random } from './random';

/** Writes one audit entry with `repos` (pass the transaction's, so it commits with the change). */
export function createAuditWriter(clock: Clock, random: Random) {
  return async function writeAudit(
    repos: Repositories,
    access: TeamAccess,
    action: AuditAction,
    target: AuditEntry['target'],
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await repos.audit.insert({
      id: createId(random, 'aud'),
      teamId: access.teamId,
      action,
      actor: access.actor,
      target,
      ip: access.ip,
      userAgent: access.userAgent,
      createdAt: clock.now(),
      details,
    });
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;
