import type { KeyEnvironment } from './key-format';
import type { Role } from './permissions';

/** Times are milliseconds since the Unix epoch throughout the domain. */
export type Millis = number;

export interface User {
  id: string;
  email: string;
  name: string;
  createdAt: Millis;
}

export interface UserWithPassword extends User {
  passwordHash: string;
}

export interface Session {
  id: string;
  userId: string;
  createdAt: Millis;
  lastSeenAt: Millis;
  /** Absolute end, whatever the activity. */
  expiresAt: Millis;
}

export interface Team {
  id: string;
  name: string;
  /** Team-wide credit balance; null means unlimited. */
  creditsBalance: number | null;
  /** The user whose personal team this is, if any. */
  personalOf: string | null;
  createdAt: Millis;
}

export interface Membership {
  teamId: string;
  userId: string;
  role: Role;
  joinedAt: Millis;
}

export interface MemberView extends Membership {
  email: string;
  name: string;
}

export interface TeamWithRole {
  id: string;
  name: string;
  role: Role;
}

export interface Invitation {
  id: string;
  teamId: string;
  email: string;
  role: Role;
  expiresAt: Millis;
  createdBy: string;
  createdAt: Millis;
  acceptedAt: Millis | null;
}

export type RefillInterval = 'day' | 'month';

export interface KeyCredits {
  limit: number;
  remaining: number;
  refill: { amount: number; interval: RefillInterval } | null;
  /** Start of the refill period the credits were last refilled for. */
  refilledAt: Millis | null;
}

export interface RateLimitSetting {
  limit: number;
  windowSeconds: number;
}

export interface ApiKey {
  id: string;
  teamId: string;
  name: string;
  description: string | null;
  prefix: string;
  environment: KeyEnvironment;
  enabled: boolean;
  scopes: string[];
  createdAt: Millis;
  createdBy: { id: string; name: string } | null;
  expiresAt: Millis | null;
  lastUsedAt: Millis | null;
  revokedAt: Millis | null;
  usageCount: number;
  credits: KeyCredits | null;
  rateLimit: RateLimitSetting | null;
  metadata: Record<string, unknown>;
  updatedAt: Millis;
}

export type KeyStatus = 'active' | 'inactive' | 'expired' | 'revoked';

/** The status a person sees: revoked beats inactive beats expired. */
export function keyStatus(key: Pick<ApiKey, 'revokedAt' | 'enabled' | 'expiresAt'>, now: Millis): KeyStatus {
  if (key.revokedAt !== null) return 'revoked';
  if (!key.enabled) return 'inactive';
  if (key.expiresAt !== null && key.expiresAt <= now) return 'expired';
  return 'active';
}

export interface Actor {
  type: 'user' | 'service';
  id: string;
  label: string;
}

export interface AuditEntry {
  id: string;
  teamId: string;
  action: AuditAction;
  actor: Actor;
  target: { type: string; id: string; label: string };
  ip: string | null;
  userAgent: string | null;
  createdAt: Millis;
  details: Record<string, unknown>;
}

export const AUDIT_ACTIONS = [
  'key.created',
  'key.updated',
  'key.enabled',
  'key.disabled',
  'key.regenerated',
  'key.revoked',
  'key.purged',
  'provider_key.created',
  'provider_key.updated',
  'provider_key.deleted',
  'provider_key.revealed',
  'member.invited',
  'member.joined',
  'member.role_changed',
  'member.removed',
  'team.created',
  'team.updated',
  'auth.login',
  'auth.login_failed',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
  'alert_settings.updated',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface ServiceToken {
  id: string;
  name: string;
  createdAt: Millis;
  revokedAt: Millis | null;
  lastUsedAt: Millis | null;
}

export interface UsagePoint {
  t: Millis;
  valid: number;
  rejected: number;
  creditsUsed: number;
}

/** Where a request came from, for the audit log. */
export interface RequestContext {
  actor: Actor;
  ip: string | null;
  userAgent: string | null;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
  prevCursor: string | null;
  total: number;
}
