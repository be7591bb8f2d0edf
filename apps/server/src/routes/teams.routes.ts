import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TeamService } from '@keysmith/core';
import { requestContext, type RequestAuth } from '../http/auth';
import { Nullable, RoleSchema, StrictObject, TeamRoleSchema, Timestamp } from '../http/schemas';

const TeamName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const TeamSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  credits: Nullable(Type.Object({ balance: Type.Integer() })),
  createdAt: Timestamp,
});
const MemberSchema = Type.Object({ userId: Type.String(), email: Type.String(), name: Type.String(), role: RoleSchema, joinedAt: Timestamp });
const UserIdParam = StrictObject({ userId: Type.String({ pattern: '^usr_[0-9A-Za-z]{1,64}$' }) });

export interface TeamRoutesOptions {
  teams: TeamService;
  requestAuth: RequestAuth;
}

export const teamRoutes: FastifyPluginAsyncTypebox<TeamRoutesOptions> = async (app, { teams, requestAuth }) => {
  app.get(
    '/api/v1/teams',
    { schema: { tags: ['teams'], summary: 'Teams the signed-in person belongs to', response: { 200: Type.Object({ data: Type.Array(TeamRoleSchema) }) } } },
    async (request) => ({ data: await teams.listTeams((await requestAuth.user(request)).user) }),
  );

  app.post(
    '/api/v1/teams',
    {
      schema: {
        tags: ['teams'],
        summary: 'Create a team; the creator is its owner',
        body: StrictObject({ name: TeamName }),
        response: { 201: Type.Object({ data: TeamRoleSchema }) },
      },
    },
    async (request, reply) => {
      const principal = await requestAuth.user(request);
      return reply.status(201).send({ data: await teams.createTeam(principal, request.body, requestContext(request)) });
    },
  );

  app.get(
    '/api/v1/team',
    { schema: { tags: ['teams'], summary: 'The current team (X-Team-Id)', response: { 200: Type.Object({ data: TeamSchema }) } } },
    async (request) => ({ data: await teams.getTeam(await requestAuth.teamAccess(request)) }),
  );

  app.patch(
    '/api/v1/team',
    {
      schema: {
        tags: ['teams'],
        summary: 'Rename the team or set its credit balance (team.manage)',
        body: StrictObject({
          name: Type.Optional(TeamName),
          credits: Type.Optional(Nullable(StrictObject({ balance: Type.Integer({ minimum: 0, maximum: 1e15 }) }))),
        }),
        response: { 200: Type.Object({ data: TeamSchema }) },
      },
    },
    async (request) => ({ data: await teams.updateTeam(await requestAuth.teamAccess(request), request.body) }),
  );

  app.get(
    '/api/v1/team/members',
    { schema: { tags: ['teams'], summary: 'Members of the current team', response: { 200: Type.Object({ data: Type.Array(MemberSchema) }) } } },
    async (request) => ({ data: await teams.listMembers(await requestAuth.teamAccess(request)) }),
  );

  app.post(
    '/api/v1/team/invitations',
    {
      schema: {
        tags: ['teams'],
        summary: 'Invite someone by e-mail; the token is shown once',
        body: StrictObject({ email: Type.String({ minLength: 3, maxLength: 300 }), role: RoleSchema }),
        response: {
          201: Type.Object({
            data: Type.Object({ id: Type.String(), email: Type.String(), role: RoleSchema, expiresAt: Timestamp }),
            inviteToken: Type.String(),
          }),
        },
      },
    },
    async (request, reply) => {
      const result = await teams.invite(await requestAuth.teamAccess(request), request.body);
      return reply.status(201).header('cache-control', 'no-store').send(result);
    },
  );

  app.post(
    '/api/v1/invitations/accept',
    {
      schema: {
        tags: ['teams'],
        summary: 'Join a team with an invitation token (session required)',
        body: StrictObject({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: { 200: Type.Object({ data: TeamRoleSchema }) },
      },
    },
    async (request) => {
      const principal = await requestAuth.user(request);
      return { data: await teams.acceptInvitation(principal, request.body.token, requestContext(request)) };
    },
  );

  app.patch(
    '/api/v1/team/members/:userId',
    {
      schema: {
        tags: ['teams'],
        summary: "Change a member's role",
        params: UserIdParam,
        body: StrictObject({ role: RoleSchema }),
        response: { 200: Type.Object({ data: MemberSchema }) },
      },
    },
    async (request) => ({ data: await teams.changeRole(await requestAuth.teamAccess(request), request.params.userId, request.body.role) }),
  );

  app.delete(
    '/api/v1/team/members/:userId',
    { schema: { tags: ['teams'], summary: 'Remove a member', params: UserIdParam } },
    async (request, reply) => {
      await teams.removeMember(await requestAuth.teamAccess(request), request.params.userId);
      return reply.status(204).send();
    },
  );
};
