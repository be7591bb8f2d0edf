
/**
 * Table types. Times are integers of milliseconds since the epoch (bigint in PostgreSQL),
 * booleans are 0/1 integers and JSON is text, so one set of queries serves both dialects.
 */
export interface Database {
  users: { id: string; email: string; name: string; password_hash: string; created_at: number };
  sessions: { id: string; token_hash: string; user_id: string; created_at: number; last_seen_at: number; expires_at: number };
  login_throttle: { email: string; window_start: number; count: number };
  /** `credits_limit` (0006): the balance as an owner last set it, what the low-credits alert compares with. */
  teams: { id: string; name: string; credits_balance: number | null; credits_generation: number; personal_of: string | null; created_at: number; credits_limit?: number | null };
  members: { team_id: string; user_id: string; role: string; joined_at: number };
  invitations: {
    id: string;
    team_id: string;
    email: string;
    role: string;
    token_hash: string;
    expires_at: number;
    created_by: string;
    created_at: number;
    accepted_at: number | null;
  };
  api_keys: {
    id: string;
    team_id: string;
    name: string;
    description: string | null;
    prefix: string;
    environment: string;
    hash: string;
    enabled: number;
    scopes: string;
    created_at: number;
    created_by_id: string | null;
    created_by_name: string | null;
    expires_at: number | null;
    last_used_at: number | null;
    revoked_at: number | null;
    usage_count: number;
    credits_limit: number | null;
    credits_remaining: number | null;
    refill_amount: number | null;
    refill_interval: string | null;
    refilled_at: number | null;
    /** Bumped by every change of the credits (owner change, refill): the lease replay guard. */
    credits_generation: number;
    rate_limit: number | null;
    rate_window_seconds: number | null;
    metadata: string;
    updated_at: number;
  };
  api_key_old_secrets: { hash: string; key_id: string; valid_until: number };
  usage_hourly: { key_id: string; team_id: string; hour: number; valid: number; rejected: number; credits_used: number };
  /** Ids of usage batches already applied, so a batch written again is not counted twice (see usage-sink.ts). */
  usage_batches: { id: string; applied_at: number };
  audit_logs: {
    id: string;
    team_id: string;
    action: string;
    actor_type: string;
    actor_id: string;
    actor_label: string;
    target_type: string;
    target_id: string;
    target_label: string;
    ip: string | null;
    user_agent: string | null;
    created_at: number;
    details: string;
  };
  provider_keys: {
    id: string;
    team_id: string;
    type: string;
    description: string;
    key_hint: string;
    ciphertext: string;
    data_key: string;
    master_key_id: string;
    format_version: number;
    created_at: number;
    updated_at: number;
    created_by_id: string | null;
    created_by_name: string | null;
  };
  /** Blocks of credits granted to one instance each (see credit-leases.repository.ts). */
  credit_leases: {
    id: string;
    instance_id: string;
    subject_kind: string;
    subject_id: string;
    granted: number;
    /** As last reported by the holder; informational (reads), never used to give credits back. */
    spent: number;
    generation: number;
    created_at: number;
    expires_at: number;
  };
  service_tokens: { id: string; name: string; token_hash: string; created_at: number; revoked_at: number | null; last_used_at: number | null };
  /** Webhooks; the signing secret only sealed (see webhooks.repository.ts). `events` is a JSON array. */
  webhooks: {
    id: string;
    team_id: string;
    url: string;
    events: string;
    enabled: number;
    secret_ciphertext: string;
    secret_data_key: string;
    master_key_id: string;
    format_version: number;
    created_at: number;
    updated_at: number;
    created_by_id: string | null;
    created_by_name: string | null;
  };
  webhook_deliveries: {
    id: string;
    webhook_id: string;
    team_id: string;
    event_id: string;
    event_type: string;
    payload: string;
    status: string;
    attempts: number;
    next_attempt_at: number | null;
    lock_token: string | null;
    locked_until: number | null;
    created_at: number;
    delivered_at: number | null;
  };
  webhook_attempts: {
    id: string;
    delivery_id: string;
    number: number;
    at: number;
    status_code: number | null;
    duration_ms: number;
    error: string | null;
  };
  /** Networks (/24, /48) and user agents keys were used from, the most recent few per key (see usage-sink.ts). */
  key_networks: { key_id: string; network: string; first_seen: number; last_seen: number; count: number };
  key_user_agents: { key_id: string; user_agent: string; first_seen: number; last_seen: number; count: number };
  /** Alerts; `details` is a JSON object; `dedupe_key` is unique (see alerts.repository.ts). */
  alerts: {
    id: string;
    team_id: string;
    key_id: string | null;
    type: string;
    severity: string;
    message: string;
    details: string;
    created_at: number;
    read_at: number | null;
    dedupe_key: string;
  };
  /** A team's alert rules; teams without a row have the defaults. Booleans are 0/1. */
  alert_settings: {
    team_id: string;
    new_network_enabled: number;
    revoked_used_enabled: number;
    usage_spike_enabled: number;
    usage_spike_factor: number;
    usage_spike_min_calls: number;
    credits_low_enabled: number;
    credits_low_percent: number;
    expiring_soon_enabled: number;
    expiring_soon_days: number;
    unused_enabled: number;
    unused_days: number;
    updated_at: number;
  };
}
