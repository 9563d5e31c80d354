import dns2 from 'dns2';

const { Packet } = dns2;

/** A record set served by the test DNS server: TXT values (long ones are split into 255-byte strings). */
export type Records = Map<string, string[]>;

export interface TestDns {
  /** `ip:port` for DNS_SERVERS. */
  server: string;
  /** Publishes (replaces) the TXT values of a name; an empty list removes it. */
  txt(name: string, values: string[]): void;
  close(): Promise<void>;
}

const chunks = (value: string) => Array.from({ length: Math.max(1, Math.ceil(value.length / 255)) }, (_, i) => value.slice(i * 255, i * 255 + 255));

/**
 * A DNS server on a free loopback UDP port that answers TXT questions from
 * its table (SPF, DKIM, DMARC and verification records of the test domains)
 * and NXDOMAIN for everything else.
 */
export async function startDns(initial: Record<string, string[]> = {}): Promise<TestDns> {
  const records: Records = new Map(Object.entries(initial).map(([k, v]) => [k.toLowerCase(), v]));
  const server = dns2.createUDPServer((request, send) => {
    const response = Packet.createResponseFromRequest(request);
    const [question] = request.questions;
    const values = question ? records.get(question.name.toLowerCase()) : undefined;
    if (question && values && question.type === Packet.TYPE.TXT) {
      for (const value of values) response.answers.push({ name: question.name, type: Packet.TYPE.TXT, class: Packet.CLASS.IN, ttl: 1, data: chunks(value) } as never);
    } else if (!values) {
      // NXDOMAIN: the name does not exist.
      (response.header as { rcode: number }).rcode = 3;
    }
    void send(response);
  });
  await server.listen(0, '127.0.0.1');
  const { port } = server.address();
  return {
    server: `127.0.0.1:${port}`,
    txt(name, values) {
      if (values.length) records.set(name.toLowerCase(), values);
      else records.delete(name.toLowerCase());
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** SPF for the test clients (every loopback address) and a DMARC reject policy: mail from `domain` sent by the tests authenticates. */
export function publishSender(dns: TestDns, domain: string): void {
  dns.txt(domain, ['v=spf1 ip4:127.0.0.0/8 -all']);
  dns.txt(`_dmarc.${domain}`, ['v=DMARC1; p=reject']);
}

interface AppObject {
  senderDomainVerifications: { domain: string; name: string; value: string; verified: boolean }[];
}

/**
 * PATCHes an application's registered senders, publishes each sender
 * domain's `_loginsign` TXT record (and SPF/DMARC for it) and verifies it:
 * what a developer does in the portal.
 */
export async function registerSenders(
  baseUrl: string,
  cookie: string,
  appId: string,
  dns: TestDns,
  senders: { senderDomains: string[]; senderAddresses?: string[] },
): Promise<void> {
  const headers = { cookie, 'content-type': 'application/json' };
  const patched = await fetch(`${baseUrl}/api/developer/applications/${appId}`, { method: 'PATCH', headers, body: JSON.stringify({ senderAddresses: [], ...senders }) });
  if (patched.status !== 200) throw new Error(`PATCH senders: ${patched.status} ${await patched.text()}`);
  const app = (await patched.json()) as AppObject;
  for (const v of app.senderDomainVerifications) {
    dns.txt(v.name, [v.value]);
    const res = await fetch(`${baseUrl}/api/developer/applications/${appId}/sender-domains/${v.domain}/verify`, { method: 'POST', headers: { cookie } });
    if (res.status !== 200) throw new Error(`verify ${v.domain}: ${res.status} ${await res.text()}`);
  }
}
