// Preloaded (node -r) into every process a bench starts (API, worker). Plain JS, no dependencies.
// The bench talks to it over the IPC channel it opens for the child (unref'd here,
// so it never keeps the process alive); signals are left alone because Nest's
// shutdown hooks treat SIGUSR2 and most others as "shut down".
//
// 1. Orphan guard: when the bench goes away without cleaning up (SIGKILL,
//    crash), the channel disconnects (and the parent pid changes); the child
//    exits, so no API or worker is left running on the machine.
// 2. With BENCH_PROFILE_DIR set: message {benchProfile: 'start'} starts the V8
//    CPU profiler, {benchProfile: 'stop'} stops it and writes
//    <dir>/<pid>-<n>.cpuprofile (atomically, via a rename), so a bench can
//    profile exactly its measured window.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 1000).unref();

if (process.channel) {
  process.on('disconnect', () => process.exit(1));
  process.channel.unref();
}

const dir = process.env.BENCH_PROFILE_DIR;
if (dir && process.channel) {
  const inspector = require('node:inspector');
  let session = null;
  let n = 0;
  process.on('message', (message) => {
    if (!message || typeof message !== 'object') return;
    if (message.benchProfile === 'start' && !session) {
      session = new inspector.Session();
      session.connect();
      session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')));
    } else if (message.benchProfile === 'stop' && session) {
      const s = session;
      session = null;
      s.post('Profiler.stop', (error, result) => {
        const file = path.join(dir, `${process.pid}-${++n}.cpuprofile`);
        if (!error) {
          fs.mkdirSync(dir, { recursive: true });
          fs.writeFileSync(`${file}.tmp`, JSON.stringify(result.profile));
          fs.renameSync(`${file}.tmp`, file);
        }
        s.disconnect();
      });
    }
  });
  // A 'message' listener refs the channel again: keep it unref'd.
  process.channel.unref();
}
