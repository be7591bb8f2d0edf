import { Type } from 'typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AuthService, TeamService } from '@keysmith/core';
import { requestContext, type RequestAuth } from '../http/auth';
import { StrictObject, TeamRoleSchema, UserSchema } from '../http/schemas';

// Trimmed and checked in the domain, so " Ada@Example.com " is accepted as ada@example.com.
const Email = Type.String({ minLength: 3, maxLength: 300 });
const Password = Type.String({ minLength: 8, maxLength: 256 });

export interface AuthRoutesOptions {
  auth: AuthService;
  teams: TeamService;
  requestAuth: RequestAuth;
}

export const authRoutes: FastifyPluginAsyncTypebox<AuthRoutesOptions> = async (app, { auth, requestAuth }) => {
  app.post(
    '/api/v1/auth/signup',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an account and its personal team; starts a session',
        body: StrictObject({ email: Email, password: Password, name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) }),
        response: { 201: Type.Object({ user: UserSchema, team: TeamRoleSchema }) },
      },
    },
    async (request, reply) => {
      const result = await auth.signup(request.body, requestContext(request));
      requestAuth.setSessionCookie(request, reply, result.token, result.session);
      return reply.status(201).send({ user: { ...result.user, createdAt: new Date(result.user.createdAt).toISOString() }, team: result.team });
    },
  );

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in; throttled after 5 failures per e-mail in 15 minutes',
        body: StrictObject({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 256 }) }),
        response: { 200: Type.Object({ user: UserSchema }) },
      },
    },
    async (request, reply) => {
      const result = await auth.login(request.body, requestContext(request));
      requestAuth.setSessionCookie(request, reply, result.token, result.session);
      return { user: { ...result.user, createdAt: new Date(result.user.createdAt).toISOString() } };
    },
  );

  app.post('/api/v1/auth/logout', { schema: { tags: ['auth'], summary: 'End the session' } }, async (request, reply) => {
    const principal = await requestAuth.user(request);
    await auth.logout(principal.sessionId);
    requestAuth.clearSessionCookie(request, reply);
    return reply.status(204).send();
  });

  app.get(
    '/api/v1/auth/session',
    {
      schema: {
        tags: ['auth'],
        summary: 'Like /me, but 200 with user null when signed out (lets a page check without an error)',
        response: {
          200: Type.Object({
            user: Type.Union([UserSchema, Type.Null()]),
            teams: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), permissions: Type.Array(Type.String()) })),
          }),
        },
      },
    },
    async (request) => {
      const principal = await requestAuth.principal(request).catch(() => null);
      if (principal?.type !== 'user') return { user: null, teams: [] };
      const me = await auth.me(principal.user);
      return { user: { ...me.user, createdAt: new Date(me.user.createdAt).toISOString() }, teams: me.teams };
    },
  );

  app.get(
    '/api/v1/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'The signed-in person and their teams with permissions',
        response: {
          200: Type.Object({
            user: UserSchema,
            teams: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), permissions: Type.Array(Type.String()) })),
          }),
        },
      },
    },
    async (request) => {
      const principal = await requestAuth.user(request);
      const me = await auth.me(principal.user);
      return { user: { ...me.user, createdAt: new Date(me.user.createdAt).toISOString() }, teams: me.teams };
    },
  );
};
