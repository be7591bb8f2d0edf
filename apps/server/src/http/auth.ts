import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import {
  KeysmithError,
  resolveTeamAccess,
  type AuthService,
  type Principal,
  type ServiceTokenService,
  type Session,
  type Store,
  type TeamAccess,
} from '@keysmith/core';

export const SESSION_COOKIE = 'keysmith_session';
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuthDeps {
  store: Store;
  auth: AuthService;
  serviceTokens: ServiceTokenService;
  trustedOrigins: readonly string[];
  secureCookies: boolean;
}

export function requestContext(request: FastifyRequest) {
  const ua = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : null };
}

function originOf(value: string | undefined): string | null {
  if (!value) return null;
  try {
    return new URL(value).origin;
  } catch {
    return null;
  }
}

/** Helpers the routes use to learn who is calling and for which team. */
export function createRequestAuth(deps: AuthDeps) {
  const unauthenticated = () => new KeysmithError('UNAUTHENTICATED', 'Sign in or send a valid service token');

  async function principalOf(request: FastifyRequest): Promise<Principal> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthenticated();
      const token = await deps.serviceTokens.authenticate(match[1]);
      if (!token) throw unauthenticated();
      return { type: 'service', tokenId: token.id, label: token.label };
    }
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (!cookie) throw unauthenticated();
    const found = await deps.auth.authenticate(cookie);
    if (!found) throw unauthenticated();
    return { type: 'user', user: found.user, sessionId: found.session.id };
  }

  return {
    principal: principalOf,

    async user(request: FastifyRequest): Promise<Principal & { type: 'user' }> {
      const principal = await principalOf(request);
      if (principal.type !== 'user') throw new KeysmithError('FORBIDDEN', 'This endpoint is for people signed in, not service tokens');
      return principal;
    },

    async teamAccess(request: FastifyRequest): Promise<TeamAccess> {
      const principal = await principalOf(request);
      const header = request.headers['x-team-id'];
      const teamId = Array.isArray(header) ? header[0] : header;
      if (teamId !== undefined && !/^team_[0-9A-Za-z]{1,64}$/.test(teamId)) {
        // A malformed id names no team the caller could see.
        throw new KeysmithError('NOT_FOUND', 'Team not found');
      }
      return resolveTeamAccess(deps.store, principal, teamId, requestContext(request));
    },

    setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, session: Session) {
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        path: '/',
        secure: deps.secureCookies || request.protocol === 'https',
        expires: new Date(session.expiresAt),
      });
    },

    clearSessionCookie(request: FastifyRequest, reply: FastifyReply) {
      reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/', secure: deps.secureCookies || request.protocol === 'https' });
    },

    /**
     * CSRF defence: a mutating request that carries the session cookie must come from our own
     * origin or a trusted one (Origin, else Referer).
     */
    installOriginCheck(app: FastifyInstance) {
      app.addHook('onRequest', (request, _reply, done) => {
        if (!MUTATING.has(request.method) || !request.cookies[SESSION_COOKIE] || request.headers.authorization !== undefined) return done();
        const origin = originOf(request.headers.origin) ?? originOf(request.headers.referer);
        const own = originOf(`${request.protocol}://${request.host}`);
        if (origin === null || (origin !== own && !deps.trustedOrigins.includes(origin))) {
          return done(new KeysmithError('FORBIDDEN', 'Cross-site request refused: Origin is missing or not trusted'));
        }
        done();
      });
    },
  };
}

export type RequestAuth = ReturnType<typeof createRequestAuth>;
