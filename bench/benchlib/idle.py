"""Many idle sessions through a proxy: a tiny raw protocol-3 client opens
them (StartupMessage, cleartext password = token, wait for ReadyForQuery)
and holds them while we read the proxy's VmRSS. psql per connection would
cost more memory on our side than the proxy uses on its side."""

import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor

from .util import BenchError, log, rss_kib

PROTOCOL_3 = 196608


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise BenchError("server closed the connection during startup")
        buf.extend(chunk)
    return bytes(buf)


def _read_message(sock):
    head = _recv_exact(sock, 5)
    tag, length = head[:1], struct.unpack("!I", head[1:])[0]
    if length < 4 or length > 1 << 20:
        raise BenchError(f"bad message length {length}")
    return tag, _recv_exact(sock, length - 4)


def _startup(user, database):
    body = struct.pack("!I", PROTOCOL_3)
    for k, v in (("user", user), ("database", database), ("application_name", "vigil-bench-idle")):
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


def open_session(target, timeout=30):
    """Returns a socket that reached ReadyForQuery, or raises."""
    sock = socket.create_connection(("127.0.0.1", target.port), timeout=timeout)
    try:
        sock.sendall(_startup(target.user, target.database))
        while True:
            tag, body = _read_message(sock)
            if tag == b"R" and body[:4] == struct.pack("!I", 3):
                pw = target.password.encode() + b"\0"
                sock.sendall(b"p" + struct.pack("!I", len(pw) + 4) + pw)
            elif tag == b"E":
                raise BenchError(f"server error: {body[:200]!r}")
            elif tag == b"Z":
                return sock
            elif tag == b"R" and body[:4] != struct.pack("!I", 0):
                raise BenchError(f"unsupported auth request {body[:4]!r}")
    except BaseException:
        sock.close()
        raise


def _try_open(target):
    try:
        return open_session(target), None
    except (OSError, BenchError) as e:
        return None, str(e)


def idle_memory(target, count, settle=2.0):
    """Opens `count` sessions, returns reached count and KiB per session."""
    time.sleep(settle)
    before = rss_kib(target.pid)
    socks, errors = [], []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for sock, err in pool.map(lambda _: _try_open(target), range(count)):
            (socks.append(sock) if sock else errors.append(err))
    time.sleep(settle)
    after = rss_kib(target.pid)
    reached = len(socks)
    for s in socks:
        try:
            s.sendall(b"X\x00\x00\x00\x04")
        finally:
            s.close()
    if errors:
        log(f"  {len(errors)} of {count} sessions failed; first error: {errors[0]}")
    per_conn = (after - before) / reached if reached else None
    return {"idle_reached": reached, "idle_requested": count, "rss_before_kib": before,
            "rss_after_kib": after, "kib_per_conn": per_conn}
