import { api } from '../../../lib/api';

export const login = (body: { email: string; password: string }) => api<{ user: { id: string } }>('POST', '/api/v1/auth/login', body, { team: false });
export const signup = (body: { email: string; password: string; name: string }) =>
  api<{ user: { id: string }; team: { id: string } }>('POST', '/api/v1/auth/signup', body, { team: false });
export const acceptInvitation = (token: string) => api<{ data: { id: string; name: string; role: string } }>('POST', '/api/v1/invitations/accept', { token }, { team: false });
