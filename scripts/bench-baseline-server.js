// The bare baseline of `npm run bench`: node:http answering a fixed /api/user JSON
// (the same shape and size as LoginSign's), nothing else. Tells the parent its port over IPC.
'use strict';
const http = require('node:http');

const body = JSON.stringify({
  id: 'c_8fK2mQ9xLp3vR7tZ1wYb',
  globalId: 'QX4821',
  name: 'Olivia Novak',
  email: 'k7p2rm@loginsign.com',
  email_verified: true,
});
const server = http.createServer((req, res) => {
  if (req.url === '/api/user') {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else {
    res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
