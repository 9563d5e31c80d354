import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { stopTracing } from './start';

/** Sends the spans still buffered when the app shuts down (after the jobs in flight have finished). */
@Injectable()
export class TracingFlush implements OnApplicationShutdown {
  onApplicationShutdown(): Promise<void> {
    return stopTracing();
  }
}
