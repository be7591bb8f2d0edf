import { createBrowserRouter, Navigate } from 'react-router';
import { AlertSettingsPage } from '../features/alerts/components/alert-settings-page';
import { AlertsPage } from '../features/alerts/components/alerts-page';
import { AuditPage } from '../features/audit/components/audit-page';
import { AcceptInvitationPage, LoginPage, SignupPage } from '../features/auth/components/auth-pages';
import { KeyDetailPage } from '../features/keys/components/key-detail-page';
import { KeysPage } from '../features/keys/components/keys-page';
import { MembersPage } from '../features/members/components/members-page';
import { ProviderKeysPage } from '../features/provider-keys/components/provider-keys-page';
import { UsagePage } from '../features/usage/components/usage-page';
import { WebhookDetailPage } from '../features/webhooks/components/webhook-detail-page';
import { WebhooksPage } from '../features/webhooks/components/webhooks-page';
import { AppShell, PublicShell } from './layout';

export const router = createBrowserRouter([
  {
    element: <PublicShell />,
    children: [
      { path: '/login', element: <LoginPage /> },
      { path: '/signup', element: <SignupPage /> },
    ],
  },
  {
    element: <AppShell />,
    children: [
      { path: '/', element: <Navigate to="/keys" replace /> },
      { path: '/keys', element: <KeysPage /> },
      { path: '/keys/:id', element: <KeyDetailPage /> },
      { path: '/team/provider-keys', element: <ProviderKeysPage /> },
      { path: '/team/members', element: <MembersPage /> },
      { path: '/team/usage', element: <UsagePage /> },
      { path: '/team/audit', element: <AuditPage /> },
      { path: '/team/webhooks', element: <WebhooksPage /> },
      { path: '/team/webhooks/:id', element: <WebhookDetailPage /> },
      { path: '/alerts', element: <AlertsPage /> },
      { path: '/alerts/settings', element: <AlertSettingsPage /> },
      { path: '/invitations/accept', element: <AcceptInvitationPage /> },
      { path: '*', element: <Navigate to="/keys" replace /> },
    ],
  },
]);
