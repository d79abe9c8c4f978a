#!/usr/bin/env node
// Container HEALTHCHECK without curl: GET /healthz on the daemon's HTTP port.
// Exit 0 when it answers 200 within the timeout, 1 otherwise. Port from HTTP_PORT
// (default 9464); HEALTHCHECK_PATH=/readyz checks readiness instead.
import http from 'node:http';

const port = Number(process.env.HTTP_PORT || 9464);
const path = process.env.HEALTHCHECK_PATH || '/healthz';
const timeoutMs = Number(process.env.HEALTHCHECK_TIMEOUT_MS || 2000);

const request = http.get({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (response) => {
  response.resume();
  process.exit(response.statusCode === 200 ? 0 : 1);
});
request.on('timeout', () => request.destroy(new Error('timeout')));
request.on('error', (error) => {
  process.stderr.write(`healthcheck: ${error.message}\n`);
  process.exit(1);
});
