import type { RelayLogEntry } from '@app/relay';
import { html, SafeHtml } from '../shared/html';
import { appHeader, badge, formatTime, PortalApp, PortalDeveloper, portalPage } from './portal.view';

const OUTCOME_BADGE: Record<RelayLogEntry['outcome'], SafeHtml> = {
  received: badge('received', 'info'),
  forwarded: badge('forwarded', 'ok'),
  dropped: badge('dropped (muted)', 'off'),
  bounced: badge('bounced', 'danger'),
  refused: badge('refused', 'danger'),
};

function domainsPanel(app: PortalApp): SafeHtml {
  const rows = (app.senderDomainVerifications ?? []).map(
    (v) =>
      html`<tr>
        <td><code>${v.domain}</code></td>
        <td><code>${v.name}</code></td>
        <td class="break"><code>${v.value}</code></td>
        <td>${v.verified ? badge('verified', 'ok') : badge('not verified', 'danger')}</td>
      </tr>`,
  );
  return html`<section class="panel" id="sender-domains">
    <h2>Sender domains</h2>
    ${
      rows.length
        ? html`<p class="muted">
              Publish each TXT record, then verify it (<code>POST /api/developer/applications/${app.id}/sender-domains/:domain/verify</code>). Mail from an unverified domain is
              refused.
            </p>
            <div class="table-wrap">
              <table id="sender-domains-table">
                <thead>
                  <tr>
                    <th scope="col">Domain</th>
                    <th scope="col">TXT name</th>
                    <th scope="col">TXT value</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>
            </div>`
        : html`<p class="muted">No sender domains registered.</p>`
    }
  </section>`;
}

/** The application's relay log: what was received, forwarded, refused (with the reason) or bounced. */
export function relayPage(developer: PortalDeveloper, csrf: string, app: PortalApp, entries: RelayLogEntry[]): string {
  const rows = entries.map(
    (e) =>
      html`<tr>
        <td>${formatTime(e.at, true)}</td>
        <td>${OUTCOME_BADGE[e.outcome]}</td>
        <td><code>${e.kind}</code></td>
        <td class="break">${e.from || '<>'}</td>
        <td class="break">${e.to}</td>
        <td class="break">${e.reason ?? ''}</td>
      </tr>`,
  );
  return portalPage(
    `Email relay · ${app.name}`,
    developer,
    csrf,
    html`${appHeader(app, 'relay')} ${domainsPanel(app)}
      <h2>Relay log</h2>
      ${
        entries.length
          ? html`<div class="table-wrap">
              <table id="relay-log">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Kind</th>
                    <th scope="col">From</th>
                    <th scope="col">To</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>
            </div>`
          : html`<div class="panel empty"><p>No relay mail yet.</p></div>`
      }`,
  );
}
