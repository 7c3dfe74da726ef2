// SPDX-License-Identifier: Apache-2.0
// mmfree serve through the official OpenAI SDK for Node: what an editor or a script sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer } from './harness.mjs';

let server;
let keyed;
let client;
const MODEL = 'mmfree-demo';
// The SDK's default transport on Node is node-fetch 2.x, whose check for a truncated chunked body
// (a response that closes while its socket still has readers) can fire for a complete stream when
// the machine is loaded: seen once in CI on Node 18 as 'Premature close' after a correct
// `0\r\n\r\n`. Node's own fetch (undici), which the SDK also supports, has no such race.
const fetch = globalThis.fetch;

before(async () => {
  [server, keyed] = await Promise.all([startServer(['--parallel', '4']), startServer(['--api-key', 'sk-right'])]);
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60000, fetch });
});

after(async () => {
  // Both stop whatever happens; then each must have exited cleanly.
  assert.deepEqual(await Promise.all([server.stop(), keyed.stop()]), [0, 0]);
});

test('models.list names the served model', async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  assert.deepEqual(models, [MODEL]);
});

test('chat completion, not streamed', async () => {
  const r = await client.chat.completions.create({
    model: MODEL, messages: [{ role: 'user', content: 'Tell me a story.' }], max_tokens: 12, temperature: 0,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  assert.ok(r.usage.completion_tokens <= 12);
});

test('chat streamed equals chat not streamed (greedy), usage in the last chunk', async () => {
  const params = { model: MODEL, messages: [{ role: 'user', content: 'Tell me about dragons.' }], max_tokens: 16, temperature: 0 };
  const whole = await client.chat.completions.create(params);
  const stream = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let finish = null;
  let usage = null;
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta.content ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  assert.ok(chunks > 2);
  assert.equal(text, whole.choices[0].message.content);
  assert.equal(finish, whole.choices[0].finish_reason);
  // The streamed request resumes from the prefix the first one cached; the counts are the same.
  assert.equal(usage.completion_tokens, whole.usage.completion_tokens);
  assert.equal(usage.prompt_tokens, whole.usage.prompt_tokens);
});

test('completion, streamed and not', async () => {
  const whole = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 10, temperature: 0 });
  assert.equal(whole.object, 'text_completion');
  let text = '';
  for await (const chunk of await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 10, temperature: 0, stream: true })) {
    text += chunk.choices[0]?.text ?? '';
  }
  assert.equal(text, whole.choices[0].text);
});

test('stop lists end the text before the stop string', async () => {
  const base = { model: MODEL, prompt: 'Once upon a time', max_tokens: 24, temperature: 0, ignore_eos: true };
  const free = (await client.completions.create(base)).choices[0].text;
  assert.ok(free.length > 10, free);
  const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 3);
  const cut = await client.completions.create({ ...base, stop: ['@@never@@', stop] });
  assert.equal(cut.choices[0].finish_reason, 'stop');
  assert.equal(cut.choices[0].text, free.slice(0, free.indexOf(stop)));
});

test('a seed reproduces a sampled reply', async () => {
  const params = { model: MODEL, messages: [{ role: 'user', content: 'Sing.' }], max_tokens: 12, temperature: 1, top_p: 0.95, seed: 1234 };
  const a = await client.chat.completions.create(params);
  const b = await client.chat.completions.create(params);
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

test('n = 2 gives two indexed choices', async () => {
  const r = await client.chat.completions.create({
    model: MODEL, messages: [{ role: 'user', content: 'Hello' }], max_tokens: 6, temperature: 1, n: 2, seed: 5,
  });
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1]);
});

test('a long reply, not streamed, parses (the server probes its client with leading whitespace)', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: 'Once upon a time', max_tokens: 3000, ignore_eos: true });
  assert.equal(r.object, 'text_completion');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 3000);
  assert.ok(r.choices[0].text.length > 0);
});

test('max_tokens = 1 gives one token and finish_reason length', async () => {
  const r = await client.completions.create({ model: MODEL, prompt: 'The', max_tokens: 1, ignore_eos: true });
  assert.equal(r.usage.completion_tokens, 1);
  assert.equal(r.choices[0].finish_reason, 'length');
});

test('Unicode survives the round trip', async () => {
  const r = await client.chat.completions.create({
    model: MODEL, messages: [{ role: 'system', content: 'Réponds 🙂' }, { role: 'user', content: 'Grüße, 世界! 🐉' }], max_tokens: 8,
  });
  assert.equal(typeof r.choices[0].message.content, 'string');
  const tok = await (await fetch(`${server.url}/tokenize`, { method: 'POST', body: JSON.stringify({ content: 'Grüße, 世界! 🐉' }) })).json();
  const back = await (await fetch(`${server.url}/detokenize`, { method: 'POST', body: JSON.stringify({ tokens: tok.tokens }) })).json();
  assert.equal(back.content, 'Grüße, 世界! 🐉');
});

test('errors surface as the SDK error classes', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], temperature: 5 }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'temperature',
  );
  await assert.rejects(
    client.chat.completions.create({ model: MODEL, messages: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages',
  );
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found',
  );
  const wrongKey = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0, fetch });
  await assert.rejects(wrongKey.models.list(), (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
  const rightKey = new OpenAI({ baseURL: `${keyed.url}/v1`, apiKey: 'sk-right', maxRetries: 0, fetch });
  const r = await rightKey.completions.create({ model: MODEL, prompt: 'Hi', max_tokens: 2 });
  assert.equal(r.object, 'text_completion');
});
