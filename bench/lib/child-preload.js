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

// 3. With BENCH_COUNT_DIR set: counts HTTP requests, MySQL statements (by first
//    keyword) and Redis commands of this process (cluster children included:
//    they inherit -r) and writes them to <dir>/<pid>.json four times a second,
//    so a bench can take deltas per process whatever else uses the shared
//    MySQL and Redis. `tokenLookups`: the access-token check's SELECT (a miss
//    of the token cache), told apart by the columns only it reads.
const countDir = process.env.BENCH_COUNT_DIR;
if (countDir) {
  const counts = { pid: process.pid, http: 0, tokenLookups: 0, mysql: {}, redis: {} };
  const bump = (table, name) => (table[name] = (table[name] || 0) + 1);
  const http = require('node:http');
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (event, ...args) {
    if (event === 'request') counts.http++;
    return emit.call(this, event, ...args);
  };
  const statement = (sql) => (typeof sql === 'string' ? sql : (sql && sql.sql) || '').trim().split(/\s+/, 1)[0].toUpperCase();
  // By file: the package's exports map hides lib/, the module cache is keyed by the file.
  const connection = require(path.resolve(__dirname, '../../node_modules/mysql2/lib/base/connection.js'));
  for (const method of ['query', 'execute']) {
    const original = connection.prototype[method];
    connection.prototype[method] = function (sql, ...rest) {
      const text = typeof sql === 'string' ? sql : (sql && sql.sql) || '';
      bump(counts.mysql, statement(sql));
      if (/linked_verified[\s\S]*FROM access_tokens t\b/.test(text)) counts.tokenLookups++;
      return original.call(this, sql, ...rest);
    };
  }
  const Redis = require(path.resolve(__dirname, '../../node_modules/ioredis')).default;
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (command, ...rest) {
    bump(counts.redis, String(command.name).toUpperCase());
    return sendCommand.call(this, command, ...rest);
  };
  fs.mkdirSync(countDir, { recursive: true });
  const file = path.join(countDir, `${process.pid}.json`);
  const write = () => {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(counts));
    fs.renameSync(`${file}.tmp`, file);
  };
  setInterval(write, 250).unref();
}
