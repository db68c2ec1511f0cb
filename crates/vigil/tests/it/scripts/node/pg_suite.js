// node-postgres (`pg`) through Vigil, checked against a direct connection.
//
// Usage: VIGIL_PROXY_URL=... VIGIL_DIRECT_URL=... node pg_suite.js
// Every check runs even when an earlier one fails. The last stdout line is
// JSON {"passed": [...], "failed": [{check, error}]}; exit status 1 on failure.
'use strict';

const assert = require('node:assert/strict');
const { Client } = require('pg');

const PROXY = process.env.VIGIL_PROXY_URL;
const DIRECT = process.env.VIGIL_DIRECT_URL;
const TIMEOUT_MS = 10000;

const TYPES_SQL = `
SELECT 1::int2 AS i2, 9007199254740993::int8 AS i8, 12345678901234567890.123456789::numeric AS num,
       3.141592653589793::float8 AS f8, true AS b, NULL::text AS nothing, '' AS empty,
       'héllo 🐘 日本語' AS uni, '\\xdeadbeef00ff'::bytea AS bin,
       '2026-11-21 10:11:12.123+00'::timestamptz AS tstz,
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '{"k": [1, null], "s": "🐘"}'::jsonb AS jb, ARRAY[1, NULL, 3]::int4[] AS arr_i,
       ARRAY['a', NULL, '🐘']::text[] AS arr_t`;

async function connect(url) {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: TIMEOUT_MS });
  await client.connect();
  return client;
}

async function withClient(url, fn) {
  const client = await connect(url);
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Both sides must agree; Buffers and Dates compare by value in deepStrictEqual.
async function sameBothWays(label, fn) {
  const proxied = await withClient(PROXY, fn);
  const direct = await withClient(DIRECT, fn);
  assert.deepStrictEqual(proxied, direct, `${label}: proxy differs from direct`);
  return proxied;
}

function plain(result) {
  return { fields: result.fields.map((f) => [f.name, f.dataTypeID]), rows: result.rows };
}

async function checkSimpleQuery() {
  const got = await sameBothWays('simple', async (c) => plain(await c.query(TYPES_SQL)));
  const row = got.rows[0];
  assert.equal(row.uni, 'héllo 🐘 日本語');
  assert.deepStrictEqual(row.bin, Buffer.from('deadbeef00ff', 'hex'));
  assert.deepStrictEqual(row.arr_t, ['a', null, '🐘']);
  assert.equal(row.nothing, null);
  assert.equal(row.i8, '9007199254740993');
}

async function checkParameterized() {
  const values = [Buffer.from([0, 1, 254, 255]), null, "ünï 🐘 '\"\\", 42, [1, 2, 3], { a: ['🐘'] }];
  const got = await sameBothWays('params', async (c) =>
    plain(await c.query('SELECT $1::bytea AS b, $2::text AS n, $3::text AS t, $4::int AS i, ' +
      '$5::int[] AS a, $6::jsonb AS j', values)));
  assert.deepStrictEqual(Object.values(got.rows[0]), values);
}

async function checkNamedPrepared() {
  const got = await sameBothWays('named', async (c) => {
    const out = [];
    for (const i of [1, 2]) {
      const r = await c.query({ name: 'q1', text: 'SELECT $1::int * 2 AS x, $2::text AS y', values: [i, `v${i} 🐘`] });
      out.push(r.rows);
    }
    const prepared = await c.query("SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name = 'q1'");
    out.push(prepared.rows[0].n);
    return out;
  });
  assert.deepStrictEqual(got, [[{ x: 2, y: 'v1 🐘' }], [{ x: 4, y: 'v2 🐘' }], 1]);
}

async function checkErrorInTransaction() {
  await withClient(PROXY, async (c) => {
    await c.query('CREATE TABLE node_tx (id int)');
    await c.query('BEGIN');
    await c.query('INSERT INTO node_tx VALUES (1)');
    await assert.rejects(c.query('SELECT 1/0'), (e) => e.code === '22012');
    await assert.rejects(c.query('SELECT 1'), (e) => e.code === '25P02');
    await c.query('ROLLBACK');
    await assert.rejects(c.query({ text: 'SELECT $1::int', values: ['nope'] }), (e) => e.code === '22P02');
    await c.query('INSERT INTO node_tx VALUES ($1)', [2]);
    const r = await c.query('SELECT array_agg(id) AS ids FROM node_tx');
    assert.deepStrictEqual(r.rows[0].ids, [2]);
  });
}

async function checkListenNotify() {
  const listener = await connect(PROXY);
  const sender = await connect(PROXY);
  try {
    const received = [];
    const done = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(received)}`)), TIMEOUT_MS);
      listener.on('notification', (msg) => {
        received.push([msg.channel, msg.payload]);
        if (received.length === 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await listener.query('LISTEN node_chan');
    await sender.query("NOTIFY node_chan, 'payload 🐘'");
    await sender.query("SELECT pg_notify('node_chan', 'second')");
    await done;
    assert.deepStrictEqual(received, [['node_chan', 'payload 🐘'], ['node_chan', 'second']]);
  } finally {
    await listener.end();
    await sender.end();
  }
}

const CHECKS = {
  simple_query: checkSimpleQuery,
  parameterized: checkParameterized,
  named_prepared: checkNamedPrepared,
  error_in_transaction: checkErrorInTransaction,
  listen_notify: checkListenNotify,
};

async function main() {
  const passed = [];
  const failed = [];
  for (const [name, check] of Object.entries(CHECKS)) {
    try {
      await check();
      passed.push(name);
    } catch (e) {
      console.error(e);
      failed.push({ check: name, error: String(e && e.message) });
    }
  }
  console.log(JSON.stringify({ passed, failed }));
  process.exitCode = failed.length ? 1 : 0;
}

main();
