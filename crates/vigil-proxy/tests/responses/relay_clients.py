"""psycopg 3 binary cursors and asyncpg prepared statements through Vigil
with the test response hook; prints one JSON object of observations."""

import asyncio
import json
import os

import asyncpg
import psycopg

out = {}

with psycopg.connect(os.environ["VIGIL_DSN"], autocommit=True) as conn:
    with conn.cursor(binary=True) as cur:
        cur.execute("SELECT id, email, note FROM people WHERE id < %s ORDER BY id", (99,))
        out["psycopg_binary"] = cur.fetchall()
    with conn.transaction():
        with conn.cursor(name="named", binary=True) as cur:
            cur.itersize = 1
            cur.execute("SELECT id, email FROM people WHERE id < 99 ORDER BY id")
            out["psycopg_named"] = [tuple(r) for r in cur]
    try:
        conn.execute("SELECT email FROM people ORDER BY id").fetchall()
        out["psycopg_poison"] = "no error"
    except psycopg.Error as e:
        out["psycopg_poison"] = e.sqlstate
    out["psycopg_after"] = conn.execute("SELECT 'ok'").fetchone()[0]


async def main():
    c = await asyncpg.connect(os.environ["VIGIL_URL"])
    st = await c.prepare("SELECT id, email, note FROM people WHERE id < $1 ORDER BY id")
    out["asyncpg"] = [tuple(r) for r in await st.fetch(99)]
    out["asyncpg_again"] = [tuple(r) for r in await st.fetch(98)]
    try:
        await c.fetch("SELECT email FROM people ORDER BY id")
        out["asyncpg_poison"] = "no error"
    except asyncpg.PostgresError as e:
        out["asyncpg_poison"] = e.sqlstate
    out["asyncpg_after"] = await c.fetchval("SELECT 'ok'")
    await c.close()


asyncio.run(main())
print(json.dumps(out))
