export * from './context';
export { startTracing, stopTracing } from './start';
export { TracingFlush } from './tracing-flush';
