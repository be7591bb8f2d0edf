import { useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useEventLabel } from '../../../components/alert-list';
import { Button } from '../../../components/ui/button';
import { TextField } from '../../../components/ui/field';
import { useFormSubmit } from '../../../lib/use-form-submit';
import { ALERT_EVENTS, checkUrl, KEY_EVENTS, WEBHOOK_EVENTS, WEBHOOK_URL_MAX, type Webhook, type WebhookEvent, type WebhookInput } from '../api';
import { FormActions } from '../../../components/ui/form-actions';

function EventGroup({ legend, events, selected, onToggle }: { legend: string; events: readonly WebhookEvent[]; selected: Set<WebhookEvent>; onToggle: (event: WebhookEvent, on: boolean) => void }) {
  const label = useEventLabel();
  const id = useId();
  return (
    <fieldset className="space-y-2">
      <legend className="text-xs font-semibold uppercase tracking-wide text-slate-500">{legend}</legend>
      {events.map((event) => (
        <label key={event} className="flex items-start gap-2.5 text-sm">
          <input
            type="checkbox"
            className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600"
            checked={selected.has(event)}
            onChange={(e) => onToggle(event, e.target.checked)}
            aria-describedby={`${id}-${event}`}
          />
          <span>
            <span className="block text-slate-900">{label(event)}</span>
            {/* The event's wire name: its description, not part of its name ("Key revoked"). */}
            <span id={`${id}-${event}`} aria-hidden="true" className="block font-mono text-xs text-slate-500">
              {event}
            </span>
          </span>
        </label>
      ))}
    </fieldset>
  );
}

/**
 * URL, events (checkboxes in two groups) and enabled, for create and edit. Checks the URL and
 * that at least one event is chosen before sending; the server's field errors come back beside
 * their fields.
 */
export function WebhookForm({ existing, submitLabel, onSubmit, onCancel }: { existing?: Webhook; submitLabel: string; onSubmit: (input: WebhookInput) => Promise<void>; onCancel: () => void }) {
  const { t } = useTranslation();
  const eventsErrorId = useId();
  const [url, setUrl] = useState(existing?.url ?? '');
  const [events, setEvents] = useState<Set<WebhookEvent>>(new Set(existing?.events ?? []));
  const [enabled, setEnabled] = useState(existing?.enabled ?? true);

  const clear = (field: string) => setErrors((e) => Object.fromEntries(Object.entries(e).filter(([k]) => k !== field && !k.startsWith(`${field}.`))));

  function validate(): Record<string, string> {
    const errors: Record<string, string> = {};
    const problem = checkUrl(url);
    if (problem === 'required') errors.url = t('validation.required');
    else if (problem === 'tooLong') errors.url = t('validation.tooLong', { max: WEBHOOK_URL_MAX });
    else if (problem) errors.url = t(`webhooks.urlProblems.${problem}`);
    if (events.size === 0) errors.events = t('webhooks.eventsRequired');
    return errors;
  }

  const { errors, setErrors, pending, onSubmit: submit } = useFormSubmit({
    validate,
    // Sent in the server's order, whatever order they were ticked in.
    submit: () => onSubmit({ url: url.trim(), events: WEBHOOK_EVENTS.filter((e) => events.has(e)), enabled }),
  });
  const eventsError = errors.events ?? Object.entries(errors).find(([k]) => k.startsWith('events.'))?.[1];

  const toggle = (event: WebhookEvent, on: boolean) => {
    setEvents((prev) => {
      const next = new Set(prev);
      if (on) next.add(event);
      else next.delete(event);
      return next;
    });
    clear('events');
  };
  const allChosen = events.size === WEBHOOK_EVENTS.length;

  return (
    <form onSubmit={submit} className="space-y-5" noValidate>
      <TextField
        label={t('webhooks.url')}
        type="url"
        inputMode="url"
        placeholder="https://example.com/keysmith"
        hint={t('webhooks.urlHint')}
        value={url}
        error={errors.url}
        onChange={(e) => {
          setUrl(e.target.value);
          clear('url');
        }}
        autoFocus
        spellCheck={false}
        autoComplete="off"
        className="font-mono"
      />
      <div aria-describedby={eventsError ? eventsErrorId : undefined} role="group" aria-label={t('webhooks.events')}>
        <div className="mb-2 flex items-center justify-between gap-2">
          <span aria-hidden="true" className="text-sm font-medium text-slate-700">
            {t('webhooks.events')}
          </span>
          <Button variant="ghost" size="sm" onClick={() => {
            setEvents(new Set(allChosen ? [] : WEBHOOK_EVENTS));
            clear('events');
          }}>
            {allChosen ? t('webhooks.selectNone') : t('webhooks.selectAll')}
          </Button>
        </div>
        <div className="grid gap-4 rounded-md p-3 ring-1 ring-inset ring-slate-200 sm:grid-cols-2">
          <EventGroup legend={t('webhooks.keyEvents')} events={KEY_EVENTS} selected={events} onToggle={toggle} />
          <EventGroup legend={t('webhooks.alertEvents')} events={ALERT_EVENTS} selected={events} onToggle={toggle} />
        </div>
        {eventsError ? (
          <p id={eventsErrorId} role="alert" className="mt-1 text-xs text-red-600">
            {eventsError}
          </p>
        ) : null}
      </div>
      <label className="flex items-start gap-2.5 text-sm">
        <input type="checkbox" className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
        <span>
          <span className="block font-medium text-slate-900">{t('webhooks.enabledLabel')}</span>
          <span className="block text-xs text-slate-500">{t('webhooks.enabledHint')}</span>
        </span>
      </label>
      <FormActions submitLabel={submitLabel} pending={pending} onCancel={onCancel} className="pt-1" />
    </form>
  );
}
