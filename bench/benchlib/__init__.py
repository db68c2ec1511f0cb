"""Helpers for bench/run: the side-by-side benchmark of Vigil, a direct
PostgreSQL connection and PgBouncer. Stdlib only, so the harness runs on
any machine that has PostgreSQL's client tools."""
