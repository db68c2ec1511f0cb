"""asyncpg through Vigil, checked against a direct connection.

asyncpg speaks only the extended protocol with named prepared statements and
binary formats, so it exercises Parse/Bind/Describe/Execute paths psql never
touches.

Usage: VIGIL_PROXY_URL=... VIGIL_DIRECT_URL=... python3 asyncpg_suite.py
Output and exit status as in psycopg_suite.py.
"""

import asyncio
import datetime
import decimal
import io
import json
import os
import sys
import traceback
import uuid

import asyncpg

PROXY = os.environ["VIGIL_PROXY_URL"]
DIRECT = os.environ["VIGIL_DIRECT_URL"]
TIMEOUT = 10.0

TYPES_SQL = """
SELECT 1::int2 AS i2, 9007199254740993::int8 AS i8, 12345678901234567890.123456789::numeric AS num,
       1.5::float4 AS f4, 3.141592653589793::float8 AS f8, true AS b, NULL::text AS nothing,
       '' AS empty, 'héllo 🐘 日本語' AS uni, '\\xdeadbeef00ff'::bytea AS bin,
       '2026-11-21 10:11:12.123456+00'::timestamptz AS tstz, '2026-11-21'::date AS d,
       '1 day 02:03:04'::interval AS iv, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '{"k": [1, null], "s": "🐘"}'::jsonb AS jb, ARRAY[1, NULL, 3]::int4[] AS arr_i,
       ARRAY['a', NULL, '🐘']::text[] AS arr_t, '192.168.0.1/24'::inet AS ip
"""


async def connect(url):
    return await asyncpg.connect(url, timeout=TIMEOUT)


def same(label, got, want):
    if repr(got) != repr(want):
        raise AssertionError(f"{label}: proxy {got!r} != direct {want!r}")


async def fetch_types(url):
    conn = await connect(url)
    try:
        rows = await conn.fetch(TYPES_SQL)
        params = await conn.fetchrow(
            "SELECT $1::bytea AS b, $2::text AS t, $3::text AS n, $4::numeric AS num, "
            "$5::timestamptz AS ts, $6::uuid AS u, $7::int4[] AS a",
            b"\x00\xff", "ünï 🐘 '\"\\", None, decimal.Decimal("1.10"),
            datetime.datetime(2026, 11, 21, 1, 2, 3, tzinfo=datetime.timezone.utc),
            uuid.UUID("12345678-1234-5678-1234-567812345678"), [1, None, 3])
        return [dict(r) for r in rows], dict(params)
    finally:
        await conn.close()


async def check_types():
    got = await fetch_types(PROXY)
    same("types", got, await fetch_types(DIRECT))
    row = got[0][0]
    assert row["uni"] == "héllo 🐘 日本語" and row["bin"] == b"\xde\xad\xbe\xef\x00\xff", row
    assert row["nothing"] is None and row["arr_t"] == ["a", None, "🐘"], row
    assert got[1]["b"] == b"\x00\xff" and got[1]["n"] is None, got[1]


async def check_executemany():
    rows = [(i, f"n{i} 🐘" if i % 2 else None) for i in range(300)]
    conn = await connect(PROXY)
    try:
        await conn.execute("CREATE TABLE apg_many (id int PRIMARY KEY, name text)")
        await conn.executemany("INSERT INTO apg_many VALUES ($1, $2)", rows)
    finally:
        await conn.close()
    direct = await connect(DIRECT)
    try:
        got = [tuple(r) for r in await direct.fetch("SELECT id, name FROM apg_many ORDER BY id")]
    finally:
        await direct.close()
    same("executemany rows seen direct", got, rows)


def copy_records():
    return [(1, "plain", b"\x00", datetime.date(2026, 1, 2)), (2, None, None, None),
            (3, "tab\t nl\n bs\\ 🐘", b"\xff" * 50, datetime.date(2000, 2, 29))] + [
            (i, f"row {i}", bytes([i % 256]), datetime.date(2026, 1, 1)) for i in range(4, 400)]


async def copy_out(url, query, fmt):
    conn = await connect(url)
    try:
        buf = io.BytesIO()
        status = await conn.copy_from_query(query, output=buf, format=fmt)
        return status, buf.getvalue()
    finally:
        await conn.close()


async def check_copy():
    records = copy_records()
    conn = await connect(PROXY)
    try:
        await conn.execute("CREATE TABLE apg_copy (id int, t text, b bytea, d date)")
        status = await conn.copy_records_to_table("apg_copy", records=records)
        assert status == f"COPY {len(records)}", status
        got = [tuple(r) for r in await conn.fetch("SELECT * FROM apg_copy ORDER BY id")]
    finally:
        await conn.close()
    same("copy_records_to_table", got, records)
    for fmt in ("text", "csv", "binary"):
        query = "SELECT * FROM apg_copy ORDER BY id"
        proxied = await copy_out(PROXY, query, fmt)
        same(f"copy_from_query {fmt}", proxied, await copy_out(DIRECT, query, fmt))
        assert proxied[0] == f"COPY {len(records)}" and len(proxied[1]) > 1000, proxied[0]


async def check_transaction():
    conn = await connect(PROXY)
    try:
        await conn.execute("CREATE TABLE apg_tx (id int)")
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO apg_tx VALUES (1)")
                raise RuntimeError("roll me back")
        except RuntimeError:
            pass
        async with conn.transaction():
            await conn.execute("INSERT INTO apg_tx VALUES (2)")
            try:
                async with conn.transaction():  # savepoint
                    await conn.execute("INSERT INTO apg_tx VALUES (3)")
                    await conn.execute("SELECT 1/0")
            except asyncpg.DivisionByZeroError:
                pass
        got = await conn.fetchval("SELECT array_agg(id ORDER BY id) FROM apg_tx")
        assert got == [2], got
    finally:
        await conn.close()


async def prepared_run(url):
    conn = await connect(url)
    try:
        stmt = await conn.prepare("SELECT $1::int * 2 AS x, $2::text || '🐘' AS y")
        out = [tuple(await stmt.fetchrow(i, f"v{i}")) for i in range(5)]
        out.append([a.name for a in stmt.get_attributes()])
        out.append(await stmt.fetchval(21, "z"))
        cursor_rows = []
        async with conn.transaction():
            async for r in conn.cursor("SELECT g FROM generate_series(1, 250) g", prefetch=40):
                cursor_rows.append(r["g"])
        out.append(cursor_rows == list(range(1, 251)))
        return out
    finally:
        await conn.close()


async def check_prepared():
    got = await prepared_run(PROXY)
    same("prepared", got, await prepared_run(DIRECT))
    assert got[0] == (0, "v0🐘") and got[-1] is True, got


async def check_error_recovery():
    conn = await connect(PROXY)
    try:
        for bad, exc in (("SELECT 1/0", asyncpg.DivisionByZeroError),
                         ("SELECT * FROM no_such_table", asyncpg.UndefinedTableError),
                         ("SELEC 1", asyncpg.PostgresSyntaxError)):
            try:
                await conn.fetch(bad)
                raise AssertionError(f"{bad} did not fail")
            except exc:
                pass
            assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
        try:
            await conn.fetchval("SELECT $1::int", "not an int")
        except asyncpg.DataError:
            pass
        assert await conn.fetchval("SELECT 'still 🐘'") == "still 🐘"
    finally:
        await conn.close()


async def check_listen():
    listener = await connect(PROXY)
    sender = await connect(PROXY)
    try:
        queue = asyncio.Queue()
        await listener.add_listener("apg_chan", lambda _c, _pid, ch, payload: queue.put_nowait((ch, payload)))
        await sender.execute("NOTIFY apg_chan, 'payload 🐘'")
        await sender.execute("SELECT pg_notify('apg_chan', 'second')")
        got = [await asyncio.wait_for(queue.get(), TIMEOUT) for _ in range(2)]
        assert got == [("apg_chan", "payload 🐘"), ("apg_chan", "second")], got
    finally:
        await listener.close()
        await sender.close()


CHECKS = [check_types, check_executemany, check_copy, check_transaction, check_prepared,
          check_error_recovery, check_listen]


async def main():
    passed, failed = [], []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            await asyncio.wait_for(check(), 60)
            passed.append(name)
        except Exception as e:  # report every failure, keep going
            traceback.print_exc(file=sys.stderr)
            failed.append({"check": name, "error": f"{type(e).__name__}: {e}"})
    print(json.dumps({"passed": passed, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
