// SPDX-License-Identifier: Apache-2.0
// The scale-out recipe of the README on loopback: nginx in front of two `mmfree serve`
// instances, routing by the X-Conversation-Id header (consistent hash), so every turn of a
// conversation reaches the instance that holds its prefix state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { startServer, metric, metrics } from './harness.mjs';

const NGINX = process.env.MMFREE_NGINX ?? '/usr/sbin/nginx';
let instances = [];
let nginx;
let dir;
let front;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitFor(url, ms) {
  const until = Date.now() + ms;
  for (;;) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    if (Date.now() > until) throw new Error(`${url} did not answer`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  instances = await Promise.all([startServer(['--parallel', '2']), startServer(['--parallel', '2'])]);
  dir = mkdtempSync(join(tmpdir(), 'mmfree-nginx-'));
  const port = await freePort();
  const conf = `
${process.getuid() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream mmfree {
    hash $http_x_conversation_id consistent;
${instances.map((s) => `    server 127.0.0.1:${s.port};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://mmfree;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_read_timeout 300s;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const check = spawnSync(NGINX, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr);
  nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off;'], { stdio: 'inherit' });
  front = `http://127.0.0.1:${port}`;
  await waitFor(`${front}/health`, 10000);
});

after(async () => {
  if (nginx) {
    const exited = new Promise((r) => nginx.on('exit', r));
    nginx.kill('SIGQUIT');
    await exited;
  }
  const codes = await Promise.all(instances.map((s) => s.stop()));
  if (dir) rmSync(dir, { recursive: true, force: true });
  assert.deepEqual(codes, [0, 0]);
});

async function requestsPerInstance() {
  return Promise.all(instances.map(async (s) => metric(await metrics(s.url), 'mmfree_requests_total')));
}

async function chat(conversation, messages, maxTokens) {
  const before = await requestsPerInstance();
  const r = await fetch(`${front}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Conversation-Id': conversation },
    body: JSON.stringify({ model: 'mmfree-demo', messages, max_tokens: maxTokens, temperature: 0 }),
  });
  assert.equal(r.status, 200, await r.clone().text());
  const body = await r.json();
  const afterCounts = await requestsPerInstance();
  const served = afterCounts.findIndex((n, i) => n === before[i] + 1);
  assert.ok(served >= 0, 'exactly one instance took the request');
  return { body, served };
}

test('every turn of a conversation reaches the same instance and resumes from its prefix cache', async () => {
  const used = new Set();
  for (let c = 0; c < 12; c += 1) {
    const id = `conversation-${c}`;
    const turn1 = [{ role: 'user', content: `Tell me about island number ${c}.` }];
    const first = await chat(id, turn1, 8);
    const turn2 = [...turn1, first.body.choices[0].message, { role: 'user', content: 'And then?' }];
    const second = await chat(id, turn2, 4);
    assert.equal(second.served, first.served, `${id} moved to another instance`);
    assert.ok(second.body.usage.prompt_tokens_details.cached_tokens > 0, `${id}: no prefix cache hit`);
    used.add(first.served);
  }
  assert.equal(used.size, 2, 'the hash spread the conversations over both instances');
  const hits = await Promise.all(instances.map(async (s) => metric(await metrics(s.url), 'mmfree_prefix_cache_hits_total')));
  assert.ok(hits.every((h) => h >= 1), `prefix cache hits per instance: ${hits}`);
  assert.ok(hits[0] + hits[1] >= 12);
});

test('a stream passes through nginx chunk by chunk', async () => {
  const r = await fetch(`${front}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Conversation-Id': 'stream' },
    body: JSON.stringify({ prompt: 'Once', max_tokens: 8, stream: true }),
  });
  const text = await r.text();
  assert.match(text, /data: \[DONE\]\n\n$/);
  assert.ok(!readFileSync(join(dir, 'error.log'), 'utf8').includes('[error]'));
});
