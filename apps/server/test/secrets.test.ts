import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestApp, cookieFrom, SERVICE_TOKEN, type TestApp } from './helpers';

let t: TestApp;
beforeEach(async () => {
  t = await buildTestApp();
});
afterEach(async () => {
  await t.close();
});

/** Everything the database holds, as bytes (SQLite file and WAL) or text (every row of the schema). */
async function databaseContents(): Promise<Buffer> {
  if (t.handle.dialect === 'sqlite') {
    const file = t.handle.file as string;
    // Read as is, with no checkpoint: recent writes live only in the WAL.
    const parts = [readFileSync(file)];
    if (existsSync(`${file}-wal`)) parts.push(readFileSync(`${file}-wal`));
    return Buffer.concat(parts);
  }
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${t.schema} and table_type = 'BASE TABLE'`.execute(t.handle.db);
  expect(tables.rows.length).toBeGreaterThan(5);
  const lines: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select row_to_json(x)::text as row from ${sql.id(t.schema as string, table_name)} x`.execute(t.handle.db);
    lines.push(...rows.rows.map((r) => r.row));
  }
  return Buffer.from(lines.join('\n'), 'utf8');
}

describe('secrets at rest and in logs', () => {
  it('keeps no raw key, password, invitation token, session cookie or service token in the database or the log', async () => {
    const password = `pw-${randomBytes(12).toString('hex')}`;
    const memberPassword = `pw-${randomBytes(12).toString('hex')}`;
    const email = `secret-keeper-${randomBytes(4).toString('hex')}@example.com`;

    const signup = await t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email, password, name: 'Keeper' } });
    expect(signup.statusCode).toBe(201);
    const signupCookie = cookieFrom(signup);

    const rawKeys: string[] = [];
    const ids: string[] = [];
    for (const name of ['first', 'second', 'third']) {
      const res = await t.request({ method: 'POST', url: '/api/v1/keys', cookie: signupCookie, body: { name, scopes: ['read'], credits: { limit: 10 } } });
      expect(res.statusCode).toBe(201);
      rawKeys.push(res.json().rawKey);
      ids.push(res.json().data.id);
    }
    for (const [id, body] of [[ids[0], {}], [ids[1], { expireOldAfterSeconds: 3600 }]] as const) {
      const res = await t.request({ method: 'POST', url: `/api/v1/keys/${id}/regenerate`, cookie: signupCookie, body });
      expect(res.statusCode).toBe(200);
      rawKeys.push(res.json().rawKey);
    }

    const invite = await t.request({ method: 'POST', url: '/api/v1/team/invitations', cookie: signupCookie, body: { email: 'invitee@example.com', role: 'developer' } });
    expect(invite.statusCode).toBe(201);
    const inviteToken = invite.json().inviteToken as string;
    const invitee = await t.request({ method: 'POST', url: '/api/v1/auth/signup', body: { email: 'invitee@example.com', password: memberPassword, name: 'Invitee' } });
    expect(invitee.statusCode).toBe(201);
    const inviteeCookie = cookieFrom(invitee);
    const accept = await t.request({ method: 'POST', url: '/api/v1/invitations/accept', cookie: inviteeCookie, body: { token: inviteToken } });
    expect(accept.statusCode).toBe(200);

    const login = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email, password } });
    expect(login.statusCode).toBe(200);
    const loginCookie = cookieFrom(login);
    const failed = await t.request({ method: 'POST', url: '/api/v1/auth/login', body: { email: 'invitee@example.com', password: `${memberPassword}-wrong` } });
    expect(failed.statusCode).toBe(401);

    const codes: string[] = [];
    for (const key of rawKeys) codes.push((await t.verify({ key, scopes: ['read'] })).code);
    expect(codes).toEqual(['REVOKED', 'VALID', 'VALID', 'VALID', 'VALID']);

    const secrets: Record<string, string> = {
      password,
      memberPassword,
      wrongPassword: `${memberPassword}-wrong`,
      inviteToken,
      signupCookie,
      inviteeCookie,
      loginCookie,
      serviceToken: SERVICE_TOKEN,
      ...Object.fromEntries(rawKeys.map((key, i) => [`rawKey${i}`, key])),
    };
    for (const value of Object.values(secrets)) expect(value.length).toBeGreaterThanOrEqual(16);

    const stored = await databaseContents();
    // The scan sees the data: the e-mail and the stored 12-character key prefixes are there.
    expect(stored.includes(email)).toBe(true);
    for (const key of rawKeys.slice(2)) expect(stored.includes(key.slice(0, 12))).toBe(true);
    const foundStored = Object.entries(secrets).filter(([, value]) => stored.includes(value)).map(([name]) => name);
    expect(foundStored).toEqual([]);

    const log = t.logs.join('');
    // The log has the requests, so a leak would be seen.
    expect(log).toContain('/api/v1/keys/verify');
    expect(log).toContain('/api/v1/auth/login');
    expect(log).toContain('/api/v1/invitations/accept');
    const foundLogged = Object.entries(secrets).filter(([, value]) => log.includes(value)).map(([name]) => name);
    expect(foundLogged).toEqual([]);
  });
});
