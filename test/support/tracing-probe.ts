// Loads an app's tracing entry as its main.ts does first, then prints how many
// OpenTelemetry modules are loaded (the tracing test runs it as a child process).
import '../../apps/api/src/tracing';

const loaded = Object.keys(require.cache).filter((file) => file.includes('/node_modules/@opentelemetry/'));
console.log(`opentelemetry-modules=${loaded.length}`);
