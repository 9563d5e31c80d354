import 'reflect-metadata';
import { getQueueToken } from '@nestjs/bullmq';
import { INestApplicationContext } from '@nestjs/common';
import { Queue } from 'bullmq';
import { randomToken } from '@app/common';
import { createApplication, createDeveloper, startServices, TestServices } from '../../../test/support/services';
import { WEBHOOK_QUEUE } from './events';
import { WebhookEventsRepository } from './webhook-events.repository';
import { WebhookOutbox } from './webhook-outbox.service';
import { WebhooksModule } from './webhooks.module';

/** The transactional outbox on the real MariaDB and Redis (no HTTP, no worker). */
describe('WebhookOutbox (real MariaDB and Redis)', () => {
  let services: TestServices;
  let ctx: INestApplicationContext;
  let outbox: WebhookOutbox;
  let events: WebhookEventsRepository;
  let queue: Queue;
  let withHook: string;
  let withoutHook: string;

  beforeAll(async () => {
    services = await startServices(WebhooksModule);
    ctx = services.ctx;
    outbox = ctx.get(WebhookOutbox);
    events = ctx.get(WebhookEventsRepository);
    queue = ctx.get<Queue>(getQueueToken(WEBHOOK_QUEUE));
    const developerId = await createDeveloper(ctx);
    withHook = await createApplication(ctx, developerId, { name: 'Hooked', webhookUrl: 'https://hooks.example.com/in' });
    withoutHook = await createApplication(ctx, developerId, { name: 'Quiet' });
  });

  afterAll(() => services?.close());

  const data = (applicationId: string) => ({ applicationId, connectionId: `c_${randomToken(8)}`, globalId: 'AB1234' });

  it('records and queues an event once the transaction commits', async () => {
    let recorded: string | null = null;
    await outbox.transaction(async (m) => {
      recorded = await outbox.record(m, 'user_blocked', data(withHook));
      return [recorded];
    });
    expect(recorded).not.toBeNull();
    const [row] = await events.page(withHook, null, 1);
    expect(row).toMatchObject({ id: recorded, type: 'user_blocked', status: 'pending' });
    expect(await queue.getJob(recorded!)).toBeDefined();
    expect(await events.unqueued(100)).not.toContain(recorded);
  });

  it('a rolled back transaction leaves no event and queues nothing', async () => {
    let recorded: string | null = null;
    await expect(
      outbox.transaction(async (m) => {
        recorded = await outbox.record(m, 'user_unblocked', data(withHook));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(recorded).not.toBeNull();
    expect(await events.find(withHook, recorded!)).toBeNull();
    expect(await queue.getJob(recorded!)).toBeUndefined();
  });

  it('records nothing for an application without a webhook URL', async () => {
    let recorded: string | null = 'unset';
    await outbox.transaction(async (m) => {
      recorded = await outbox.record(m, 'user_blocked', data(withoutHook));
      return [recorded];
    });
    expect(recorded).toBeNull();
    expect(await events.page(withoutHook, null, 10)).toEqual([]);
  });
});
