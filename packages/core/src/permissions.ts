export const ROLES = ['owner', 'admin', 'developer', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'keys.read',
  'keys.write',
  'provider_keys.read',
  'provider_keys.write',
  'provider_keys.reveal',
  'members.manage',
  'audit.read',
  'team.manage',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The contract's permission table; anything not listed is denied. */
const GRANTS: Record<Role, readonly Permission[]> = {
  owner: PERMISSIONS,
  admin: [
    'keys.read',
    'keys.write',
    'provider_keys.read',
    'provider_keys.write',
    'provider_keys.reveal',
    'members.manage',
    'audit.read',
  ],
  developer: ['keys.read', 'keys.write', 'provider_keys.read'],
  viewer: ['keys.read', 'provider_keys.read'],
};

/** Whether `role` holds `permission`; unknown roles hold nothing. */
export function can(role: Role | 'service', permission: Permission): boolean {
  // A service token acts for the whole instance, like an owner of every team.
  if (role === 'service') return true;
  // Own properties only: a role such as "constructor" must not reach Object.prototype.
  if (!Object.hasOwn(GRANTS, role)) return false;
  return GRANTS[role].includes(permission);
}

export function permissionsOf(role: Role): Permission[] {
  return [...GRANTS[role]];
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
