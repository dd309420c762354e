// The portal's pages, rendered on the server with Hono's JSX (which escapes every value).
import type { Child, FC } from 'hono/jsx';
import type { PortalFlash } from '../db/schema/index.ts';
import { PORTAL_CSS } from './styles.ts';
import { type DomainView, formatTime, type StatusTone } from './view.ts';

export const SCRIPT_PATH = '/portal/portal.js';
export const STATUS_PATH = '/portal/status';
const POLL_MS = 3000;

export interface FormContext {
  csrfToken: string;
  embed: boolean;
}

const ICONS: Record<StatusTone, Child> = {
  verified: <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="2.2" />,
  auto: <path d="M3 8.5l3 3 7-7" fill="none" stroke="currentColor" stroke-width="2.2" />,
  pending: (
    <g fill="none" stroke="currentColor" stroke-width="1.8">
      <circle cx="8" cy="8" r="6.2" />
      <path d="M8 4.5V8l2.5 1.6" />
    </g>
  ),
  failed: <path d="M4 4l8 8M12 4l-8 8" fill="none" stroke="currentColor" stroke-width="2.2" />,
};

const Layout: FC<{ title: string; embed: boolean; children?: Child; script?: boolean }> = (
  props,
) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="referrer" content="same-origin" />
      <title>{props.title}</title>
      <style dangerouslySetInnerHTML={{ __html: PORTAL_CSS }} />
    </head>
    <body class={props.embed ? 'embed' : 'page'}>
      {props.children}
      {props.script ? <script src={SCRIPT_PATH} defer /> : null}
    </body>
  </html>
);

const TopBar: FC<{ organization?: string }> = ({ organization }) => (
  <header class="topbar">
    <span class="brand">Verihook Admin Portal</span>
    {organization ? <span class="org">{organization}</span> : null}
  </header>
);

/** A page that only says what happened: a used link, an ended session, an error. */
export const MessagePage: FC<{ title: string; message: string; embed: boolean; code?: string }> = (
  props,
) => (
  <Layout title={`${props.title} · Verihook`} embed={props.embed}>
    {props.embed ? null : <TopBar />}
    <main id="main">
      <h1>{props.title}</h1>
      <p>{props.message}</p>
      {props.code ? (
        <p class="help">
          Error code: <code>{props.code}</code>
        </p>
      ) : null}
    </main>
  </Layout>
);

const Hidden: FC<{ form: FormContext }> = ({ form }) => (
  <>
    <input type="hidden" name="csrf_token" value={form.csrfToken} />
    {form.embed ? <input type="hidden" name="embed" value="1" /> : null}
  </>
);

const Flash: FC<{ flash: PortalFlash | null }> = ({ flash }) => {
  if (!flash) return <div id="flash" />;
  const title = { success: 'Done', info: 'Note', error: 'That did not work' }[flash.kind];
  return (
    <div
      id="flash"
      class={`flash flash-${flash.kind}`}
      role={flash.kind === 'error' ? 'alert' : 'status'}
    >
      <strong>{title}</strong>
      <p>{flash.message}</p>
    </div>
  );
};

export interface AddFormState {
  value: string;
  error: string | null;
}

const AddDomain: FC<{ enabled: boolean; form: FormContext; state: AddFormState }> = (props) => (
  <section class="panel" aria-labelledby="add-heading">
    <h2 id="add-heading">Add a domain</h2>
    {props.enabled ? (
      <form method="post" action="/portal/domains">
        <Hidden form={props.form} />
        <label for="domain-input">Domain name</label>
        <p id="domain-help" class="help">
          The domain of your organization's email addresses, such as example.com: no https:// and no
          path.
        </p>
        <div class="row">
          <input
            id="domain-input"
            name="domain"
            type="text"
            inputmode="url"
            autocomplete="off"
            autocapitalize="none"
            spellcheck={false}
            required
            value={props.state.value}
            aria-describedby={props.state.error ? 'domain-help domain-error' : 'domain-help'}
            aria-invalid={props.state.error ? 'true' : undefined}
          />
          <button type="submit">Add domain</button>
        </div>
        {props.state.error ? (
          <p id="domain-error" class="field-error" role="alert">
            {props.state.error}
          </p>
        ) : null}
      </form>
    ) : (
      <p class="off" id="feature-off">
        Domain verification is turned off for this organization, so domains cannot be added here.
        Ask the platform's support to turn it on.
      </p>
    )}
  </section>
);

const Badge: FC<{ view: DomainView }> = ({ view }) => (
  <span class={`badge tone-${view.status_tone}`} data-field="status">
    <svg viewBox="0 0 16 16" aria-hidden="true" focusable="false">
      {ICONS[view.status_tone]}
    </svg>
    <span>
      <span class="sr-only">Status: </span>
      {view.status_label}
    </span>
  </span>
);

const Time: FC<{ iso: string | null; field: string; fallback: string }> = (props) =>
  props.iso ? (
    <time data-field={props.field} datetime={props.iso}>
      {formatTime(props.iso)}
    </time>
  ) : (
    <time data-field={props.field}>{props.fallback}</time>
  );

const CopyField: FC<{ id: string; label: string; what: string; value: string }> = (props) => (
  <div class="field">
    <label for={props.id}>{props.label}</label>
    <div class="row">
      <input id={props.id} type="text" class="mono" readonly value={props.value} />
      <button
        type="button"
        class="secondary"
        data-copy={props.id}
        data-label={props.what}
        hidden
        aria-label={`Copy ${props.what}`}
      >
        Copy
      </button>
    </div>
  </div>
);

const RecordPanel: FC<{ view: DomainView }> = ({ view }) => {
  const record = view.record;
  if (!record || view.status !== 'PENDING') return null;
  return (
    <section class="record" aria-labelledby={`${view.id}-record`}>
      <h4 id={`${view.id}-record`}>Publish this TXT record at your DNS provider</h4>
      <CopyField id={`${view.id}-name`} label="Name" what="the record name" value={record.name} />
      <CopyField
        id={`${view.id}-host`}
        label="Host only (if your provider appends the domain)"
        what="the host part"
        value={record.host}
      />
      <p class="help">
        Type: <code>TXT</code>
      </p>
      <CopyField id={`${view.id}-value`} label="Value" what="the value" value={record.value} />
      <p class="note">
        Enter only the host part (<code>{record.host}</code>) if your DNS provider appends the
        domain to the name. Changes can take up to 48 hours to appear.
      </p>
    </section>
  );
};

const DomainCard: FC<{ view: DomainView; form: FormContext }> = ({ view, form }) => {
  const nameId = `${view.id}-title`;
  const shown = view.domain_unicode;
  return (
    <li>
      <article
        class="domain"
        id={view.id}
        data-domain-id={view.id}
        data-status={view.status}
        aria-labelledby={nameId}
      >
        <div class="domain-head">
          <h3 id={nameId}>
            {shown}
            {shown !== view.domain ? <span class="alabel"> ({view.domain})</span> : null}
          </h3>
          <Badge view={view} />
        </div>
        <p class="detail">{view.status_detail}</p>
        <dl class="facts">
          <div>
            <dt>Type</dt>
            <dd>{view.type_label}</dd>
          </div>
          <div>
            <dt>Method</dt>
            <dd>{view.method_label}</dd>
          </div>
          {view.record ? (
            <div>
              <dt>Last check</dt>
              <dd>
                <span data-field="check-summary">{view.check_summary}</span>
                <span class="when">
                  <Time iso={view.last_checked_at} field="last-checked" fallback="" />
                </span>
              </dd>
            </div>
          ) : null}
          {view.status === 'PENDING' ? (
            <div>
              <dt>Next check</dt>
              <dd>
                <Time iso={view.next_check_at} field="next-check" fallback="None scheduled" />
              </dd>
            </div>
          ) : null}
          {view.verification_expires_at ? (
            <div>
              <dt>Verify before</dt>
              <dd>
                <Time iso={view.verification_expires_at} field="expires" fallback="" />
              </dd>
            </div>
          ) : null}
        </dl>
        {view.record ? (
          <p
            class={view.doubled_name ? 'hint doubled' : 'hint'}
            data-field="hint"
            hidden={!view.hint}
          >
            <span data-field="hint-text">{view.hint ?? ''}</span>
          </p>
        ) : null}
        <RecordPanel view={view} />
        <div class="actions">
          {view.can_verify ? (
            <form method="post" action={`/portal/domains/${view.id}/verify`}>
              <Hidden form={form} />
              <button type="submit">
                Verify now<span class="sr-only"> {shown}</span>
              </button>
            </form>
          ) : null}
          <form
            method="post"
            action={`/portal/domains/${view.id}/delete`}
            data-confirm={`Delete ${shown}? This cannot be undone.`}
          >
            <Hidden form={form} />
            <input type="hidden" name="confirm" value="" />
            <button type="submit" class="danger">
              Delete<span class="sr-only"> {shown}</span>
            </button>
          </form>
        </div>
      </article>
    </li>
  );
};

export interface PortalPageProps {
  organization: { id: string; display_name: string; domain_verification_enabled: boolean };
  domains: DomainView[];
  flash: PortalFlash | null;
  form: FormContext;
  add: AddFormState;
  sessionExpiresAt: string;
}

/** The portal itself: the organization's domains and what an admin can do with them. */
export const PortalPage: FC<PortalPageProps> = (props) => {
  const { organization, domains, form } = props;
  const embed = form.embed;
  return (
    <Layout title={`Domains · ${organization.display_name}`} embed={embed} script>
      {embed ? null : (
        <a class="skip" href="#domains-heading">
          Skip to your domains
        </a>
      )}
      {embed ? null : <TopBar organization={organization.display_name} />}
      <main
        id="main"
        data-portal
        data-status-url={STATUS_PATH}
        data-poll-ms={String(POLL_MS)}
        data-organization-id={organization.id}
      >
        <div id="notice" class="notice flash flash-info" role="status" hidden>
          <p>
            <span data-notice-text /> <a href={embed ? '/portal/embed' : '/portal'}>Reload</a>
          </p>
        </div>
        <h1>{embed ? 'Domains' : `Domains of ${organization.display_name}`}</h1>
        <p class="lead">
          Prove that your organization owns its domain: add it, publish the TXT record shown for it
          at your DNS provider, then press Verify now.
        </p>
        <Flash flash={props.flash} />
        <div id="live" class="sr-only" aria-live="polite" />
        <AddDomain
          enabled={organization.domain_verification_enabled}
          form={form}
          state={props.add}
        />
        <section aria-labelledby="domains-heading">
          <h2 id="domains-heading" tabindex={-1}>
            Your domains
          </h2>
          {domains.length === 0 ? (
            <p class="empty">No domains yet.</p>
          ) : (
            <ul class="domains">
              {domains.map((view) => (
                <DomainCard view={view} form={form} />
              ))}
            </ul>
          )}
        </section>
      </main>
      <footer class="pagefoot">
        <span>
          Session ends <Time iso={props.sessionExpiresAt} field="session-ends" fallback="" />.
        </span>
        <form method="post" action="/portal/logout">
          <Hidden form={form} />
          <button type="submit" class="secondary">
            End session
          </button>
        </form>
      </footer>
    </Layout>
  );
};

/** The no-JavaScript confirmation step before a delete. */
export const ConfirmDeletePage: FC<{ view: DomainView; form: FormContext }> = ({ view, form }) => (
  <Layout title={`Delete ${view.domain_unicode}?`} embed={form.embed}>
    {form.embed ? null : <TopBar />}
    <main id="main">
      <h1>Delete {view.domain_unicode}?</h1>
      <p>
        The domain leaves your organization and its TXT record is no longer checked. This cannot be
        undone; to use it again, add it again and publish a new record.
      </p>
      <div class="actions">
        <form method="post" action={`/portal/domains/${view.id}/delete`}>
          <Hidden form={form} />
          <input type="hidden" name="confirm" value="yes" />
          <button type="submit" class="danger">
            Delete {view.domain_unicode}
          </button>
        </form>
        <a class="button secondary" href={form.embed ? '/portal/embed' : '/portal'}>
          Cancel
        </a>
      </div>
    </main>
  </Layout>
);
