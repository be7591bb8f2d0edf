import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { toast } from 'sonner';
import { Button } from '../../../components/ui/button';
import { ConfirmDialog } from '../../../components/ui/confirm-dialog';
import { OneTimeSecret } from '../../../components/ui/one-time-secret';
import { DataTable } from '../../../components/ui/data-table';
import { Modal } from '../../../components/ui/dialog';
import { SelectField, TextField } from '../../../components/ui/field';
import { PageHeader, Skeleton } from '../../../components/ui/misc';
import { formatDate } from '../../../lib/format';
import { activeTeam, useMe, usePermission } from '../../../lib/session';
import { fieldErrors, useErrorToast } from '../../../lib/use-api-error';
import { ROLES, useMemberActions, useMembers, type Member, type Role } from '../api';

function InviteDialog({ open, onOpenChange, isOwner }: { open: boolean; onOpenChange: (o: boolean) => void; isOwner: boolean }) {
  const { t } = useTranslation();
  const actions = useMemberActions();
  const showError = useErrorToast();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [link, setLink] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  const close = () => {
    setLink(null);
    setEmail('');
    setErrors({});
    onOpenChange(false);
  };
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!email.trim()) {
      setErrors({ email: t('validation.required') });
      return;
    }
    setPending(true);
    try {
      const result = await actions.invite(email, role);
      setLink(`${window.location.origin}/invitations/accept?token=${encodeURIComponent(result.inviteToken)}`);
      toast.success(t('members.invited', { email: result.data.email }));
    } catch (err) {
      setErrors(fieldErrors(err));
      showError(err);
    } finally {
      setPending(false);
    }
  }
  return (
    <Modal open={open} onOpenChange={(o) => (o ? onOpenChange(true) : close())} title={t('members.inviteTitle')} modalLock={link !== null}>
      {link ? (
        <OneTimeSecret value={link} warning={t('members.inviteLinkOnce')} label={t('members.inviteLink')} onDone={close} />
      ) : (
        <form onSubmit={submit} className="space-y-4" noValidate>
          <TextField label={t('auth.email')} type="email" value={email} error={errors.email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          <SelectField label={t('members.role')} value={role} error={errors.role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.filter((r) => isOwner || r !== 'owner').map((r) => (
              <option key={r} value={r}>
                {t(`roles.${r}`)}
              </option>
            ))}
          </SelectField>
          <div className="flex justify-end gap-2">
            <Button variant="secondary" onClick={close}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" disabled={pending}>
              {pending ? t('common.working') : t('members.sendInvite')}
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

export function MembersPage() {
  const { t, i18n } = useTranslation();
  const members = useMembers();
  const me = useMe();
  const canManage = usePermission('members.manage');
  const isOwner = activeTeam(me.data)?.role === 'owner';
  const actions = useMemberActions();
  const showError = useErrorToast();
  const [inviting, setInviting] = useState(false);
  const [removing, setRemoving] = useState<Member | null>(null);

  return (
    <section>
      <PageHeader
        title={t('members.title')}
        description={t('members.subtitle')}
        actions={canManage ? <Button onClick={() => setInviting(true)}>{t('members.invite')}</Button> : <p className="text-sm text-slate-500">{t('members.noManagePermission')}</p>}
      />
      {members.isPending ? (
        <Skeleton className="h-40 w-full" />
      ) : (
        <DataTable
          columns={[
            { label: t('auth.name') },
            { label: t('auth.email') },
            { label: t('members.role') },
            { label: t('members.joined') },
            { label: t('keys.actions'), hidden: true },
          ]}
        >
              {(members.data?.data ?? []).map((m) => {
                const ownerOnly = m.role === 'owner' && !isOwner;
                return (
                  <tr key={m.userId}>
                    <td className="px-3 py-2 font-medium">{m.name}</td>
                    <td className="px-3 py-2">{m.email}</td>
                    <td className="px-3 py-2">
                      {canManage && !ownerOnly ? (
                        <select
                          className="rounded-md border-0 py-1 text-sm ring-1 ring-slate-300"
                          aria-label={t('members.roleOf', { name: m.name })}
                          value={m.role}
                          onChange={async (e) => {
                            try {
                              await actions.changeRole(m.userId, e.target.value as Role);
                              toast.success(t('members.roleChanged'));
                            } catch (err) {
                              showError(err);
                            }
                          }}
                        >
                          {ROLES.filter((r) => isOwner || r !== 'owner').map((r) => (
                            <option key={r} value={r}>
                              {t(`roles.${r}`)}
                            </option>
                          ))}
                        </select>
                      ) : (
                        <span title={canManage ? t('members.ownerOnly') : undefined}>{t(`roles.${m.role}`)}</span>
                      )}
                    </td>
                    <td className="px-3 py-2">{formatDate(m.joinedAt, i18n.language)}</td>
                    <td className="px-3 py-2 text-right">
                      {canManage ? (
                        <Button variant="ghost" size="sm" disabled={ownerOnly} title={ownerOnly ? t('members.ownerOnly') : undefined} onClick={() => setRemoving(m)} aria-label={t('members.removeName', { name: m.name })}>
                          {t('members.remove')}
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
        </DataTable>
      )}
      <InviteDialog open={inviting} onOpenChange={setInviting} isOwner={isOwner} />
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(o) => !o && setRemoving(null)}
        title={t('members.removeTitle', { name: removing?.name ?? '' })}
        description={t('members.removeBody')}
        confirmLabel={t('members.remove')}
        destructive
        onConfirm={async () => {
          if (!removing) return;
          try {
            await actions.remove(removing.userId);
            toast.success(t('members.removed'));
          } catch (err) {
            showError(err);
            throw err;
          }
        }}
      />
    </section>
  );
}
