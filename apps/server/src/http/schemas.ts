import { Type, type Static, type TSchema } from 'typebox';
import type {} from '@fastify/swagger';
import { AUDIT_ACTIONS, ERROR_CODES, ROLES, type AuditAction, type ErrorCode, type Role } from '@keysmith/core';

/** A string that must be one of `values`, typed as their union. */
export const StringEnum = <T extends string>(values: readonly T[], options: Record<string, unknown> = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

/** An object schema that refuses unknown fields (no mass assignment). */
export const StrictObject = <T extends Parameters<typeof Type.Object>[0]>(properties: T, options: Record<string, unknown> = {}) =>
  Type.Object(properties, { additionalProperties: false, ...options });

/**
 * `T` or null, as OpenAPI 3.0 says it (`nullable: true`). Ajv validates the keyword, and
 * fast-json-stringify serializes it without the trial validations an `anyOf` would cost each answer.
 */
export const Nullable = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, nullable: true });

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: StringEnum<ErrorCode>(ERROR_CODES),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
      requestId: Type.String(),
    }),
  },
  { $id: 'Error', description: 'Every error has this shape.' },
);

export const IdParam = (prefix: string) =>
  StrictObject({ id: Type.String({ pattern: `^${prefix}_[0-9A-Za-z]{1,64}$` }) });

export const Timestamp = Type.String({ format: 'date-time' });

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
};

export const PageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    data: Type.Array(item),
    nextCursor: Nullable(Type.String()),
    prevCursor: Nullable(Type.String()),
    total: Type.Integer(),
  });

export const RoleSchema = StringEnum<Role>(ROLES);
export const AuditActionSchema = StringEnum<AuditAction>(AUDIT_ACTIONS);

export const UserSchema = Type.Object({ id: Type.String(), email: Type.String(), name: Type.String(), createdAt: Timestamp });
export const TeamRoleSchema = Type.Object({ id: Type.String(), name: Type.String(), role: RoleSchema });

/** Parses an ISO timestamp already checked by the schema's date-time format. */
export function toMillis(value: string | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  return Date.parse(value);
}
