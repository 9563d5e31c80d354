// The part of autocannon's programmatic API the benches use (the package ships no types).
declare module 'autocannon' {
  /** One step of a request sequence; `C` is the per-connection state its callbacks share. */
  interface AutocannonRequest<C = Record<string, unknown>> {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    setupRequest?: (request: AutocannonRequest<C>, context: C) => AutocannonRequest<C> | null | undefined | false;
    onResponse?: (status: number, body: string, context: C, headers: Record<string, string>) => void;
  }

  interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  interface Result {
    latency: Histogram;
    requests: Histogram;
    throughput: Histogram;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    resets: number;
    duration: number;
    '1xx': number;
    '2xx': number;
    '3xx': number;
    '4xx': number;
    '5xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }

  interface Options<C = Record<string, unknown>> {
    url: string;
    connections?: number;
    duration?: number;
    amount?: number;
    pipelining?: number;
    timeout?: number;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    requests?: AutocannonRequest<C>[];
    excludeErrorStats?: boolean;
  }

  interface Instance {
    stop(): void;
    on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
    on(event: 'reqError', listener: (error: Error) => void): this;
    on(event: 'tick', listener: (counts: { counter: number; bytes: number }) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  function autocannon<C = Record<string, unknown>>(options: Options<C>, callback: (error: Error | null, result: Result) => void): Instance;

  namespace autocannon {
    export { AutocannonRequest, Histogram, Instance, Options, Result };
  }

  export = autocannon;
}
