import { CookieJar, getPage } from './forms';

/** The mails `/dev/mailbox` lists for `to` (each one's HTML), newest first as the page lists them. */
export async function mailsTo(baseUrl: string, to: string): Promise<string[]> {
  const page = await getPage(baseUrl, '/dev/mailbox', new CookieJar());
  return page.html
    .split('<article')
    .slice(1)
    .filter((a) => a.includes(`<strong>${to}</strong>`));
}
