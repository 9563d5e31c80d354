import { DataSource } from 'typeorm';
import { MailerService } from '@app/identity';
import { signUpUser, uniqueEmail } from '../support/accounts';
import { getPage, postForm } from '../support/forms';
import { startApi, TestApp } from '../support/harness';
import { Row } from '../support/db';

describe('Re-authentication and notice mails', () => {
  let t: TestApp;
  const db = () => t.app.get(DataSource);
  const mailer = () => t.app.get(MailerService);

  beforeAll(async () => {
    t = await startApi();
  });
  afterAll(() => t.close());

  /** Waits (bounded) until a mail to `to` has a subject matching `subject`. */
  async function waitForMail(to: string, subject: RegExp) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const mail = (await mailer().devMailbox()).find((m) => m.to === to && subject.test(m.subject));
      if (mail) return mail;
      if (Date.now() > deadline) throw new Error(`no mail "${String(subject)}" to ${to}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const subjectsTo = async (to: string) => (await mailer().devMailbox()).filter((m) => m.to === to).map((m) => m.subject);

  it('adding an address asks for the current password; wrong or missing -> 400 and nothing is sent', async () => {
    const user = await signUpUser(t.baseUrl);
    const email = uniqueEmail('added');
    for (const password of [undefined, '', 'wrong password', 'x'.repeat(5000)]) {
      const page = await getPage(t.baseUrl, '/account/emails', user.jar);
      const fields: Record<string, string> = { _csrf: page.csrf!, email };
      if (password !== undefined) fields.password = password;
      const res = await postForm(t.baseUrl, '/account/emails', fields, user.jar);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('current password is not correct');
    }
    expect(Number((await db().query<Row[]>('SELECT COUNT(*) AS n FROM email_verifications WHERE email = ?', [email]))[0].n)).toBe(0);
    expect(await subjectsTo(email)).toHaveLength(0);

    const page = await getPage(t.baseUrl, '/account/emails', user.jar);
    expect(page.html).toContain('name="password"');
    const ok = await postForm(t.baseUrl, '/account/emails', { _csrf: page.csrf!, email, password: user.password }, user.jar);
    expect(ok.status).toBe(303);
    await waitForMail(email, /Confirm your email address/);
    // A new link for the address already waiting needs no password again.
    const again = await getPage(t.baseUrl, '/account/emails', user.jar);
    expect((await postForm(t.baseUrl, '/account/emails', { _csrf: again.csrf!, email }, user.jar)).status).toBe(303);
  });

  it('mails a notice to the primary address when an address is added (once confirmed)', async () => {
    const user = await signUpUser(t.baseUrl);
    const email = uniqueEmail('second');
    const page = await getPage(t.baseUrl, '/account/emails', user.jar);
    expect((await postForm(t.baseUrl, '/account/emails', { _csrf: page.csrf!, email, password: user.password }, user.jar)).status).toBe(303);
    const link = /\/account\/emails\/verify\?token=[A-Za-z0-9_-]+/.exec((await waitForMail(email, /Confirm/)).text)![0];
    expect(await subjectsTo(user.email)).not.toContain('An address was added to your LoginSign account');
    const confirm = await getPage(t.baseUrl, link, user.jar);
    const done = await postForm(t.baseUrl, '/account/emails/verify', { _csrf: confirm.csrf!, token: new URL(link, t.baseUrl).searchParams.get('token')! }, user.jar);
    expect(done.status).toBe(303);
    const notice = await waitForMail(user.email, /An address was added/);
    expect(notice.text).toContain('/password/forgot');
  });

  it('mails a notice after a password change, and none after a refused one', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await getPage(t.baseUrl, '/account/security', user.jar);
    const wrong = await postForm(t.baseUrl, '/account/password', { _csrf: page.csrf!, current_password: 'not my password', new_password: 'a new long password' }, user.jar);
    expect(wrong.status).toBe(400);
    expect(await subjectsTo(user.email)).not.toContain('Your LoginSign password was changed');
    const again = await getPage(t.baseUrl, '/account/security', user.jar);
    const ok = await postForm(t.baseUrl, '/account/password', { _csrf: again.csrf!, current_password: user.password, new_password: 'a new long password' }, user.jar);
    expect(ok.status).toBe(303);
    await waitForMail(user.email, /password was changed/);
  });

  it('account deletion asks for the password and mails a notice to the former primary address', async () => {
    const user = await signUpUser(t.baseUrl);
    const page = await getPage(t.baseUrl, '/account/delete', user.jar);
    const wrong = await postForm(t.baseUrl, '/account/delete', { _csrf: page.csrf!, password: 'not my password' }, user.jar);
    expect(wrong.status).toBe(400);
    expect(await subjectsTo(user.email)).not.toContain('Your LoginSign account was deleted');
    const again = await getPage(t.baseUrl, '/account/delete', user.jar);
    const ok = await postForm(t.baseUrl, '/account/delete', { _csrf: again.csrf!, password: user.password }, user.jar);
    expect(ok.status).toBe(303);
    expect(Number((await db().query<Row[]>('SELECT COUNT(*) AS n FROM users WHERE global_id = ?', [user.globalId]))[0].n)).toBe(0);
    await waitForMail(user.email, /account was deleted/);
  });
});
