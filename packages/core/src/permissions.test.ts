import { describe, expect, it } from 'vitest';
import { can, isRole, PERMISSIONS, permissionsOf, ROLES, type Permission, type Role } from './permissions';

// The permission table of the contract (shared/API.md, "Teams, roles, permissions"), written out again.
const TABLE: Record<Permission, Record<Role, boolean>> = {
  'keys.read': { owner: true, admin: true, developer: true, viewer: true },
  'keys.write': { owner: true, admin: true, developer: true, viewer: false },
  'provider_keys.read': { owner: true, admin: true, developer: true, viewer: true },
  'provider_keys.write': { owner: true, admin: true, developer: false, viewer: false },
  'provider_keys.reveal': { owner: true, admin: true, developer: false, viewer: false },
  'members.manage': { owner: true, admin: true, developer: false, viewer: false },
  'audit.read': { owner: true, admin: true, developer: false, viewer: false },
  'team.manage': { owner: true, admin: false, developer: false, viewer: false },
};

describe('permissions', () => {
  it('knows exactly the roles and permissions of the contract', () => {
    expect([...ROLES].sort()).toEqual(['admin', 'developer', 'owner', 'viewer']);
    expect([...PERMISSIONS].sort()).toEqual(Object.keys(TABLE).sort());
  });

  for (const [permission, roles] of Object.entries(TABLE) as Array<[Permission, Record<Role, boolean>]>) {
    for (const [role, granted] of Object.entries(roles) as Array<[Role, boolean]>) {
      it(`${granted ? 'grants' : 'denies'} ${permission} to ${role}`, () => {
        expect(can(role, permission)).toBe(granted);
      });
    }
  }

  it('lists for each role exactly the permissions the table grants it', () => {
    for (const role of ROLES) {
      const granted = PERMISSIONS.filter((permission) => TABLE[permission][role]);
      expect([...permissionsOf(role)].sort()).toEqual([...granted].sort());
    }
  });

  it('gives a copy of the grants, so a caller cannot widen a role', () => {
    permissionsOf('viewer').push('team.manage');
    expect(can('viewer', 'team.manage')).toBe(false);
  });

  it('denies every permission to an unknown role', () => {
    for (const role of ['guest', 'Owner', '', 'superadmin', '__proto__', 'constructor']) {
      for (const permission of PERMISSIONS) expect(can(role as Role, permission)).toBe(false);
    }
  });

  it('denies an unknown permission to every role', () => {
    for (const role of ROLES) {
      for (const permission of ['keys.delete', 'KEYS.READ', '', 'team.*', 'constructor']) {
        expect(can(role, permission as Permission)).toBe(false);
      }
    }
  });

  it('lets a service token act on every team like an owner', () => {
    for (const permission of PERMISSIONS) expect(can('service', permission)).toBe(true);
  });

  it('recognises only the four roles', () => {
    for (const role of ROLES) expect(isRole(role)).toBe(true);
    for (const value of ['guest', 'OWNER', '', 'service', 'toString']) expect(isRole(value)).toBe(false);
  });
});
