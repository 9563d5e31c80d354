import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';

/** @simplewebauthn/browser's browser bundle, served from our own origin (pages allow only 'self' scripts). */
function webauthnBundle(): string {
  const entry = require.resolve('@simplewebauthn/browser');
  return readFileSync(path.join(path.dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

/**
 * The passkey script of /login and /account/security. Without JavaScript or
 * WebAuthn the passkey controls stay hidden. Sign-in: "Sign in with a
 * passkey" (and, where the browser offers it, passkeys in the email field's
 * autofill: conditional mediation). Adding: the password is checked first,
 * then the browser creates the credential.
 */
export const PASSKEYS_SCRIPT = `(() => {
  const W = window.SimpleWebAuthnBrowser;
  if (!W || !W.browserSupportsWebAuthn()) return;
  const status = document.getElementById('passkey-status');
  const show = (message) => {
    if (!status) return;
    status.textContent = message;
    status.hidden = false;
  };
  const post = async (url, body) => {
    const res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let json = {};
    try { json = await res.json(); } catch { json = {}; }
    return { status: res.status, body: json };
  };

  const signIn = document.getElementById('passkey-signin');
  if (signIn) {
    const returnTo = signIn.dataset.returnTo || '/account';
    const run = async (autofill) => {
      const options = await post('/api/account/passkey-login/options', {});
      if (options.status !== 200) { if (!autofill) show(options.body.error_description || 'Passkey sign-in is not available.'); return; }
      let response;
      try {
        response = await W.startAuthentication({ optionsJSON: options.body, useBrowserAutofill: autofill });
      } catch (error) {
        if (!autofill && error && error.name !== 'AbortError') show('Signing in with a passkey was cancelled.');
        return;
      }
      const result = await post('/api/account/passkey-login', { response, return_to: returnTo });
      if (result.status === 200 && typeof result.body.location === 'string') window.location.assign(result.body.location);
      else show(result.body.error_description || 'The passkey was not accepted.');
    };
    signIn.hidden = false;
    signIn.addEventListener('click', () => { void run(false); });
    W.browserSupportsWebAuthnAutofill().then((supported) => { if (supported) void run(true); }).catch(() => {});
  }

  const add = document.getElementById('passkey-add');
  if (add) {
    add.hidden = false;
    add.addEventListener('submit', async (event) => {
      event.preventDefault();
      const data = new FormData(add);
      const options = await post('/api/account/passkeys/options', { password: data.get('password') });
      if (options.status !== 200) { show(options.body.error_description || 'Adding a passkey could not start.'); return; }
      let response;
      try {
        response = await W.startRegistration({ optionsJSON: options.body });
      } catch {
        show('Adding the passkey was cancelled.');
        return;
      }
      const result = await post('/api/account/passkeys', { name: data.get('name'), response });
      if (result.status === 201) window.location.assign('/account/security?done=passkey-added');
      else show(result.body.error_description || 'The passkey could not be added.');
    });
  }
})();
`;

@Controller('assets')
export class PasskeyAssetsController {
  private readonly bundle = webauthnBundle();

  @Get('webauthn.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  webauthn() {
    return this.bundle;
  }

  @Get('passkeys.js')
  @Header('content-type', 'text/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  passkeys() {
    return PASSKEYS_SCRIPT;
  }
}
