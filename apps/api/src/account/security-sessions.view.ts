import type { ActiveSession } from '@app/common';
import { html, SafeHtml } from '../shared/html';
import { csrfField } from '../shared/layout';
import { parseUserAgent } from '../shared/user-agent';
import { when } from './account-center.view';

export interface SessionsSectionView {
  csrf: string;
  sessions: ActiveSession[];
}

/** The "Where you're signed in" section of /account/security: each session with "Sign out", then "Sign out of all other sessions". */
export function sessionsSection(v: SessionsSectionView): SafeHtml {
  const others = v.sessions.filter((s) => !s.current).length;
  return html`<section class="panel" aria-labelledby="sessions-title" id="sessions">
    <h2 id="sessions-title">Where you're signed in</h2>
    <ul class="sessions">
      ${v.sessions.map((s) => {
        const agent = parseUserAgent(s.userAgent);
        return html`<li class="session" data-session="${s.handle}">
          <strong>${agent.browser} on ${agent.os}</strong>${s.current ? html` <span class="badge badge-info" data-current>This device</span>` : ''}
          <p class="muted">IP <code>${s.ip || 'unknown'}</code> · signed in ${when(new Date(s.createdAt * 1000))} · last active ${when(new Date(s.lastSeenAt * 1000))}</p>
          <form method="post" action="/account/security/sessions/sign-out">
            ${csrfField(v.csrf)}
            <input type="hidden" name="session" value="${s.handle}" />
            <button type="submit" class="secondary">Sign out</button>
          </form>
        </li>`;
      })}
    </ul>
    ${
      others > 0
        ? html`<form method="post" action="/account/security/sessions/sign-out-others">
            ${csrfField(v.csrf)}
            <button type="submit" class="danger">Sign out of all other sessions</button>
          </form>`
        : html`<p class="muted">No other sessions.</p>`
    }
  </section>`;
}
