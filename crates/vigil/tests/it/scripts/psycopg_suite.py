"""psycopg 3 through Vigil, checked against a direct connection.

Usage: VIGIL_PROXY_DSN=... VIGIL_DIRECT_DSN=... python3 psycopg_suite.py

Every check runs even when an earlier one fails, so one run reports every
difference. The last stdout line is JSON: {"passed": [...], "failed":
[{"check": ..., "error": ...}]}; the exit status is 1 when anything failed.
"""

import datetime
import decimal
import json
import os
import sys
import time
import traceback
import uuid

import psycopg
from psycopg import errors

PROXY = os.environ["VIGIL_PROXY_DSN"]
DIRECT = os.environ["VIGIL_DIRECT_DSN"]
TIMEOUT = 10.0

TYPES_SQL = """
SELECT 1::int2 AS i2, 2147483647::int4 AS i4, 9007199254740993::int8 AS i8,
       12345678901234567890.123456789::numeric AS num, 'NaN'::numeric AS num_nan,
       1.5::float4 AS f4, 3.141592653589793::float8 AS f8, 'Infinity'::float8 AS f8_inf,
       true AS b, NULL::text AS nothing, '' AS empty,
       'héllo wörld 🐘 日本語' AS uni, E'tab\\there\\nnewline' AS ctrl,
       '\\xdeadbeef00ff'::bytea AS bin, ''::bytea AS bin_empty,
       '2026-11-21 10:11:12.123456+00'::timestamptz AS tstz,
       '2026-11-21 10:11:12'::timestamp AS ts, '2026-11-21'::date AS d,
       '10:11:12'::time AS t, '1 day 02:03:04'::interval AS iv,
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
       '{"k": [1, 2, {"n": null}], "s": "🐘"}'::jsonb AS jb, '{"a":1}'::json AS js,
       ARRAY[1, 2, NULL, 4]::int4[] AS arr_i, ARRAY['a', NULL, 'c d', '🐘']::text[] AS arr_t,
       ARRAY[[1.5, 2.5], [3.5, 4.5]]::float8[] AS arr_2d,
       '192.168.0.1/24'::inet AS ip, 'foo'::name AS nm
"""


def connect(dsn, **kw):
    return psycopg.connect(dsn, connect_timeout=10, **kw)


def fetch_types(dsn, binary):
    with connect(dsn) as conn:
        cur = conn.cursor(binary=binary)
        cur.execute(TYPES_SQL)
        row = cur.fetchone()
        desc = [(d.name, d.type_code) for d in cur.description]
        return desc, row


def same(label, got, want):
    # repr() so that NaN and zone objects compare by value, not identity.
    if repr(got) != repr(want):
        raise AssertionError(f"{label}: proxy {got!r} != direct {want!r}")


def check_types_text():
    same("text rows", fetch_types(PROXY, False), fetch_types(DIRECT, False))
    desc, row = fetch_types(PROXY, False)
    col = dict(zip((name for name, _ in desc), row))
    assert col["uni"] == "héllo wörld 🐘 日本語", col["uni"]
    assert col["bin"] == b"\xde\xad\xbe\xef\x00\xff", col["bin"]
    assert col["arr_t"] == ["a", None, "c d", "🐘"], col["arr_t"]
    assert col["nothing"] is None and col["empty"] == "", col


def check_types_binary():
    same("binary rows", fetch_types(PROXY, True), fetch_types(DIRECT, True))
    _, text_row = fetch_types(PROXY, False)
    _, bin_row = fetch_types(PROXY, True)
    # Binary and text decoding agree except the float4 repr detail.
    same("binary vs text", bin_row[:5], text_row[:5])


def roundtrip_params(dsn, binary):
    values = [b"\x00\x01\xfe\xff", None, "ünï 🐘 '\"\\", 42, decimal.Decimal("1.10"),
              datetime.datetime(2026, 11, 21, 1, 2, 3, tzinfo=datetime.timezone.utc),
              uuid.UUID("12345678-1234-5678-1234-567812345678"), [1, 2, 3], ""]
    with connect(dsn) as conn:
        cur = conn.cursor(binary=binary)
        cur.execute("SELECT %s::bytea, %s::text, %s::text, %s::int8, %s::numeric, "
                    "%s::timestamptz, %s::uuid, %s::int4[], %s::text", values)
        row = cur.fetchone()
        assert list(row) == values, f"round trip {row!r} != {values!r}"
        cur.execute("SELECT %s::text IS NULL, length(%s), octet_length(%s)", [None, "🐘🐘", b"abc"])
        return row, cur.fetchone()


def check_params():
    for binary in (False, True):
        same(f"params binary={binary}", roundtrip_params(PROXY, binary),
             roundtrip_params(DIRECT, binary))


def check_executemany():
    with connect(PROXY) as conn:
        conn.execute("CREATE TABLE pg3_many (id int PRIMARY KEY, name text, data bytea)")
        rows = [(i, f"name-{i}-ü🐘" if i % 3 else None, bytes([i % 256]) * i) for i in range(200)]
        conn.cursor().executemany("INSERT INTO pg3_many VALUES (%s, %s, %s)", rows)
        conn.commit()
    with connect(DIRECT) as conn:
        got = conn.execute("SELECT id, name, data FROM pg3_many ORDER BY id").fetchall()
    same("executemany rows seen direct", got, rows)


def copy_rows(fmt):
    return [(1, "plain", b"\x00bin", datetime.date(2026, 1, 2)),
            (2, None, None, None),
            (3, "tab\there, newline\n, backslash\\ 🐘", b"\xff" * 100, datetime.date(1999, 12, 31)),
            (4, "", b"", datetime.date(2000, 2, 29))] + [
            (i, f"row {i} {fmt}", bytes([i % 256]), datetime.date(2026, 1, 1)) for i in range(5, 500)]


def check_copy(fmt):
    table = f"pg3_copy_{fmt}"
    opts = "(FORMAT BINARY)" if fmt == "binary" else ""
    rows = copy_rows(fmt)
    with connect(PROXY) as conn:
        conn.execute(f"CREATE TABLE {table} (id int, t text, b bytea, d date)")
        cur = conn.cursor()
        with cur.copy(f"COPY {table} FROM STDIN {opts}") as copy:
            if fmt == "binary":
                copy.set_types(["int4", "text", "bytea", "date"])
            for r in rows:
                copy.write_row(r)
        assert cur.rowcount == len(rows), cur.rowcount
        conn.commit()
        got = read_copy(conn, table, opts, fmt)
    same(f"copy {fmt} out through proxy", got, rows)
    with connect(DIRECT) as conn:
        same(f"copy {fmt} out direct", read_copy(conn, table, opts, fmt), rows)
        raw_direct = raw_copy(conn, table, opts)
    with connect(PROXY) as conn:
        same(f"copy {fmt} raw bytes", raw_copy(conn, table, opts), raw_direct)


def read_copy(conn, table, opts, fmt):
    with conn.cursor().copy(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT {opts}") as copy:
        copy.set_types(["int4", "text", "bytea", "date"])
        return list(copy.rows())


def raw_copy(conn, table, opts):
    with conn.cursor().copy(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT {opts}") as copy:
        return b"".join(bytes(block) for block in copy)


def check_copy_text():
    check_copy("text")


def check_copy_binary():
    check_copy("binary")


def pipeline_run(dsn, table):
    with connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY)")
        results = []
        with conn.pipeline() as p:
            c1 = conn.execute(f"INSERT INTO {table} VALUES (1) RETURNING id")
            c2 = conn.execute("SELECT %s::text", ["pipelined 🐘"])
            p.sync()
            results += [c1.fetchone(), c2.fetchone()]
            failed = None
            # Which exception surfaces first depends on when the error result
            # arrives (psycopg raises PipelineAborted for statements queued
            # after it); either way the whole batch must have failed.
            try:
                conn.execute(f"INSERT INTO {table} VALUES (2)")
                conn.execute("SELECT 1/0")
                conn.execute(f"INSERT INTO {table} VALUES (3)")
                p.sync()
            except (errors.DivisionByZero, errors.PipelineAborted):
                failed = "batch failed"
                try:
                    p.sync()
                except (errors.DivisionByZero, errors.PipelineAborted):
                    pass
            results.append(failed)
            c3 = conn.execute(f"INSERT INTO {table} VALUES (4) RETURNING id")
            c4 = conn.execute(f"SELECT count(*) FROM {table}")
            p.sync()
            results += [c3.fetchone(), c4.fetchone()]
        results.append(conn.execute(f"SELECT array_agg(id ORDER BY id) FROM {table}").fetchone())
        return results


def check_pipeline():
    got = pipeline_run(PROXY, "pg3_pipe_proxy")
    want = pipeline_run(DIRECT, "pg3_pipe_direct")
    same("pipeline", got, want)
    assert got[2] == "batch failed", got


def check_transactions():
    with connect(PROXY) as conn:
        conn.execute("CREATE TABLE pg3_tx (id int)")
        conn.commit()
        try:
            with conn.transaction():
                conn.execute("INSERT INTO pg3_tx VALUES (1)")
                raise RuntimeError("roll me back")
        except RuntimeError:
            pass
        conn.execute("INSERT INTO pg3_tx VALUES (2)")
        try:
            conn.execute("SELECT 1/0")
        except errors.DivisionByZero:
            pass
        try:
            conn.execute("SELECT 1")
            raise AssertionError("statement after error in tx should fail")
        except errors.InFailedSqlTransaction:
            pass
        conn.rollback()
        with conn.transaction():
            conn.execute("INSERT INTO pg3_tx VALUES (3)")
            with conn.transaction():  # savepoint
                conn.execute("INSERT INTO pg3_tx VALUES (4)")
                conn.execute("SELECT 1").fetchone()
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO pg3_tx VALUES (5)")
                    conn.execute("SELECT 1/0")
            except errors.DivisionByZero:
                pass
        got = conn.execute("SELECT array_agg(id ORDER BY id) FROM pg3_tx").fetchone()[0]
        assert got == [3, 4], got
    with connect(DIRECT) as conn:
        same("tx direct view", conn.execute("SELECT array_agg(id ORDER BY id) FROM pg3_tx").fetchone()[0], [3, 4])


def check_notifications():
    with connect(PROXY, autocommit=True) as listener, connect(PROXY, autocommit=True) as sender:
        listener.execute("LISTEN pg3_chan")
        sender.execute("NOTIFY pg3_chan, 'payload 🐘'")
        sender.execute("SELECT pg_notify('pg3_chan', 'second')")
        got = [(n.channel, n.payload) for n in listener.notifies(timeout=TIMEOUT, stop_after=2)]
        assert got == [("pg3_chan", "payload 🐘"), ("pg3_chan", "second")], got
    with connect(PROXY, autocommit=True) as listener, connect(PROXY, autocommit=True) as sender:
        seen = []
        listener.add_notify_handler(lambda n: seen.append((n.channel, n.payload)))
        listener.execute("LISTEN pg3_handled")
        sender.execute("NOTIFY pg3_handled, 'handled'")
        # Handlers run whenever the listener reads; poll with a deadline.
        deadline = time.monotonic() + TIMEOUT
        while not seen and time.monotonic() < deadline:
            listener.execute("SELECT pg_sleep(0.05)")
        assert seen == [("pg3_handled", "handled")], seen


def prepared_run(dsn):
    with connect(dsn, prepare_threshold=100) as conn:
        out = []
        for i in range(6):
            cur = conn.execute("SELECT %s::int * 2, %s::text || '🐘'", [i, f"v{i}"], prepare=True)
            out.append(cur.fetchone())
        names = conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                             ["SELECT $1::int * 2%"]).fetchone()[0]
        out.append(("prepared on server", names))
    with connect(dsn, prepare_threshold=2) as conn:
        for i in range(8):
            out.append(conn.execute("SELECT %s::int + 1", [i]).fetchone())
        conn.execute("DEALLOCATE ALL")
        out.append(conn.execute("SELECT %s::int + 1", [100], prepare=True).fetchone())
    return out


def check_prepared():
    got = prepared_run(PROXY)
    same("prepared", got, prepared_run(DIRECT))
    assert got[6] == ("prepared on server", 1), got[6]


CHECKS = [check_types_text, check_types_binary, check_params, check_executemany,
          check_copy_text, check_copy_binary, check_pipeline, check_transactions,
          check_notifications, check_prepared]


def main():
    passed, failed = [], []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            check()
            passed.append(name)
        except Exception as e:  # report every failure, keep going
            traceback.print_exc(file=sys.stderr)
            failed.append({"check": name, "error": f"{type(e).__name__}: {e}"})
    print(json.dumps({"passed": passed, "failed": failed}))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
