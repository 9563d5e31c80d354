import type { AttemptView, DeliveryView } from '@app/webhooks';
import { html, SafeHtml } from '../shared/html';
import { csrfField } from '../shared/layout';
import { appHeader, appPath, badge, formatTime, notice, PortalApp, PortalDeveloper, portalPage } from './portal.view';

export interface PortalEndpoint {
  webhookUrl: string | null;
  enabled: boolean;
  disabledAt: string | null;
}

export type PortalDelivery = DeliveryView;

export type PortalAttempt = AttemptView;

function statusBadge(status: PortalDelivery['status']): SafeHtml {
  return status === 'delivered' ? badge('delivered', 'ok') : status === 'failed' ? badge('failed', 'danger') : badge('pending', 'info');
}

function lastResult(d: { lastStatusCode: number | null; lastError: string | null }): SafeHtml {
  if (d.lastStatusCode !== null) return html`<code>HTTP ${d.lastStatusCode}</code>`;
  if (d.lastError) return html`<span class="break">${d.lastError}</span>`;
  return html`<span class="muted">—</span>`;
}

function endpointPanel(app: PortalApp, csrf: string, endpoint: PortalEndpoint): SafeHtml {
  return html`<section class="panel" id="endpoint">
<h2>Endpoint</h2>
<dl class="kv">
<dt>URL</dt><dd class="break">${endpoint.webhookUrl ? html`<code>${endpoint.webhookUrl}</code>` : html`<span class="muted">No webhook URL. Set one in <a href="${appPath(app.id)}">Settings</a>.</span>`}</dd>
<dt>Status</dt><dd id="endpoint-status">${endpoint.enabled ? badge('enabled', 'ok') : endpoint.webhookUrl ? html`${badge('disabled', 'danger')} <span class="muted">since ${formatTime(endpoint.disabledAt)} (the endpoint answered 410 Gone). Redeliver or ping to re-enable it.</span>` : badge('not configured', 'off')}</dd>
</dl>
${
  endpoint.webhookUrl
    ? html`<form method="post" action="${appPath(app.id, '/webhooks/test')}">${csrfField(csrf)}<button type="submit" class="secondary">Send test ping</button></form>`
    : ''
}
</section>`;
}

export function webhooksPage(
  developer: PortalDeveloper,
  csrf: string,
  app: PortalApp,
  endpoint: PortalEndpoint,
  data: { deliveries: PortalDelivery[]; nextCursor: string | null },
  cursor: string | undefined,
  message?: string,
): string {
  const rows = data.deliveries.map(
    (d) => html`<tr>
<td><a href="${appPath(app.id, `/webhooks/${encodeURIComponent(d.id)}`)}"><code>${d.type}</code></a></td>
<td>${statusBadge(d.status)}</td>
<td class="num">${d.attempts}</td>
<td>${lastResult(d)}</td>
<td>${formatTime(d.createdAt, true)}</td>
<td><a href="${appPath(app.id, `/webhooks/${encodeURIComponent(d.id)}`)}" aria-label="Details of ${d.type} ${d.id}">Details</a></td>
</tr>`,
  );
  return portalPage(
    `Webhooks · ${app.name}`,
    developer,
    csrf,
    html`${appHeader(app, 'webhooks')}
${notice(message)}
${endpointPanel(app, csrf, endpoint)}
<h2>Deliveries</h2>
${
  data.deliveries.length
    ? html`<div class="table-wrap"><table id="deliveries-table">
<thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last result</th><th scope="col">Time</th><th scope="col"><span class="sr-only">Details</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<div class="panel empty"><p>No deliveries yet.</p><p class="muted">Events about your users (sign-ups, blocks, account closures…) appear here.</p></div>`
}
<nav class="pager" aria-label="Pages">${cursor ? html`<a href="${appPath(app.id, '/webhooks')}">« Newest</a>` : ''}${data.nextCursor ? html`<a rel="next" id="next-page" href="${appPath(app.id, `/webhooks?${new URLSearchParams({ cursor: data.nextCursor })}`)}">Older »</a>` : ''}</nav>`,
  );
}

export function deliveryPage(
  developer: PortalDeveloper,
  csrf: string,
  app: PortalApp,
  delivery: PortalDelivery & { payload: unknown; attemptLog: PortalAttempt[] },
  message?: string,
): string {
  const attempts = delivery.attemptLog.map(
    (a) => html`<tr>
<td class="num">${a.attempt}</td>
<td>${formatTime(a.at)}</td>
<td>${a.statusCode !== null ? html`<code>HTTP ${a.statusCode}</code>` : html`<span class="muted">—</span>`}</td>
<td class="num">${a.durationMs} ms</td>
<td class="break">${a.error ?? ''}${a.responseExcerpt ? html`<div class="muted excerpt">${a.responseExcerpt}</div>` : ''}</td>
<td class="break"><code>${a.url}</code></td>
</tr>`,
  );
  return portalPage(
    `Delivery ${delivery.type} · ${app.name}`,
    developer,
    csrf,
    html`<p class="crumbs"><a href="/developer/apps">Applications</a> › <a href="${appPath(app.id)}">${app.name}</a> › <a href="${appPath(app.id, '/webhooks')}">Webhooks</a> ›</p>
<h1><code>${delivery.type}</code> ${statusBadge(delivery.status)}</h1>
${notice(message)}
<div class="grid">
<section class="panel">
<h2>Delivery</h2>
<dl class="kv">
<dt>Event ID (<code>webhook-id</code>)</dt><dd><code>${delivery.id}</code></dd>
<dt>Created</dt><dd>${formatTime(delivery.createdAt)}</dd>
<dt>Delivered</dt><dd>${formatTime(delivery.deliveredAt)}</dd>
<dt>Attempts</dt><dd>${delivery.attempts}</dd>
<dt>Last result</dt><dd>${lastResult(delivery)}</dd>
</dl>
<form method="post" action="${appPath(app.id, `/webhooks/${encodeURIComponent(delivery.id)}/redeliver`)}">${csrfField(csrf)}<button type="submit">Redeliver</button></form>
<p class="muted">Sends the same event again (same <code>webhook-id</code>, new signature).</p>
</section>
<section class="panel">
<h2>Payload</h2>
<pre class="code"><code>${JSON.stringify(delivery.payload, null, 2)}</code></pre>
</section>
</div>
<h2>Attempts</h2>
${
  attempts.length
    ? html`<div class="table-wrap"><table id="attempts-table"><thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Status</th><th scope="col">Duration</th><th scope="col">Error / response</th><th scope="col">URL</th></tr></thead><tbody>${attempts}</tbody></table></div>`
    : html`<div class="panel empty"><p class="muted">No attempt yet: the worker will deliver it shortly.</p></div>`
}`,
  );
}
