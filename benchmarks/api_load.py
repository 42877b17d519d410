"""Load test of the filing API: concurrent clients file entries of 4 lines for a while.

Starts ``tradeguard serve`` on 127.0.0.1 (a subprocess, ``--workers`` processes: 2 by
default, one per core of the 2-core target machine) against a fresh database (a SQLite file in
a temporary directory, or a fresh PostgreSQL database created next to the one the URL names and
dropped afterwards), creates a filer with a bearer token, files entries from ``--clients``
concurrent keep-alive HTTP/1.1 clients for ``--duration`` seconds, stops the server and counts
what the database holds.  The clients are a few lines of asyncio (``--client httpx`` for
httpx): the load generator shares the cores with the server, and httpx would spend a third of
the CPU the server needs per filing.  Prints one JSON line:

    {"accepted_per_second", "p50_ms", "p99_ms", "errors", "acknowledged", "stored", "lost", ...}

``lost`` counts entries acknowledged (201) but absent from the database after the run; the
target is 0, with 300 entries/s and p99 <= 100 ms on 2 cores.

    .venv/bin/python benchmarks/api_load.py --duration 60
    .venv/bin/python benchmarks/api_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from tradeguard.domain.check_digit import format_entry_number

FILER = "BNC"
IMPORTER = "12-345678900"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _entry(seq: int, n_lines: int) -> dict[str, Any]:
    return {
        "entry_number": format_entry_number(FILER, seq),
        "entry_type": "01",
        "port_code": "2704",
        "mode": "vessel",
        "importer_id": IMPORTER,
        "arrival_date": "2026-06-02",  # fiscal year 2026: its fees are in the packaged table
        "lines": [
            {
                "line_number": i,
                "hts": "6109100012",
                "origin": "VN",
                "value_usd": 1000.0 + seq % 997 + i,
                "quantity1": 10,
                "unit1": "doz.",
            }
            for i in range(1, n_lines + 1)
        ],
    }


def _prepare(url: str) -> str:
    """Migrate the database and create a filer with a bearer token; the token."""
    from tradeguard.api import security
    from tradeguard.api.deps import utcnow
    from tradeguard.api.routes.users import UserCreate, create_user
    from tradeguard.domain.codes import Role
    from tradeguard.storage.engine import engine_for
    from tradeguard.storage.schema import migrate
    from tradeguard.storage.tables_api import api_tokens

    migrate(url)
    token = security.new_token()
    body = UserCreate(
        username="bench-filer",
        password="bench-password",
        role=Role.FILER,
        filer_code=FILER,
        importers=[IMPORTER],
    )
    with engine_for(url).begin() as conn:
        uid = create_user(conn, body)
        conn.execute(
            insert(api_tokens).values(
                token_hash=security.token_hash(token),
                user_id=uid,
                created_at=utcnow(),
                expires_at=utcnow() + timedelta(hours=2),
            )
        )
    return token


def _stored(url: str) -> set[str]:
    from tradeguard.storage.engine import engine_for
    from tradeguard.storage.tables_foundation import entries

    with engine_for(url).connect() as conn:
        rows = conn.execute(select(entries.c.entry_number).where(entries.c.filer_code == FILER))
        return set(rows.scalars())


def _count_lines(url: str) -> int:
    from tradeguard.storage.engine import engine_for
    from tradeguard.storage.tables_foundation import lines

    with engine_for(url).connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lines)).scalar_one())


class _Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status and body.

    The load generator shares the 2 cores with the server it measures, so it must cost little:
    httpx spends ~2.5 ms of CPU per request (a third of what the server needs per filing), this
    ~0.2 ms.  It speaks just what the benchmark needs (Content-Length or chunked bodies).
    """

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port = host, port
        self.head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.head, len(body), body)
        )
        status = int((await self.reader.readline()).split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while size := int((await self.reader.readline()).strip(), 16):
                parts.append(await self.reader.readexactly(size + 2))
            await self.reader.readline()
            data = b"".join(p[:-2] for p in parts)
        else:
            data = await self.reader.readexactly(length)
        if close:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def _client(
    base: str, token: str, seqs: Any, stop: float, n_lines: int, out: dict[str, Any], kind: str
) -> None:
    if kind == "httpx":
        await _httpx_client(base, token, seqs, stop, n_lines, out)
        return
    url = httpx.URL(base)
    conn = _Connection(url.host, url.port or 80, token)
    try:
        while time.perf_counter() < stop:
            body = json.dumps(_entry(next(seqs), n_lines)).encode()
            t0 = time.perf_counter()
            try:
                status, data = await conn.post("/api/v1/entries", body)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                await conn.close()
                _error(out, type(exc).__name__)
                continue
            _answered(out, t0, status, lambda data=data: json.loads(data))
    finally:
        await conn.close()


async def _httpx_client(
    base: str, token: str, seqs: Any, stop: float, n_lines: int, out: dict[str, Any]
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30.0) as client:
        while time.perf_counter() < stop:
            body = _entry(next(seqs), n_lines)
            t0 = time.perf_counter()
            try:
                r = await client.post("/api/v1/entries", json=body)
            except httpx.HTTPError as exc:
                _error(out, type(exc).__name__)
                continue
            _answered(out, t0, r.status_code, r.json)


def _answered(out: dict[str, Any], t0: float, status: int, body: Any) -> None:
    out["latencies"].append((time.perf_counter() - t0) * 1000.0)
    if status == 201:
        out["acknowledged"].add(body()["entry_number"])
    else:
        _error(out, str(status))


def _error(out: dict[str, Any], kind: str) -> None:
    out["errors"] += 1
    out["error_kinds"][kind] = out["error_kinds"].get(kind, 0) + 1


async def _load(
    base: str,
    token: str,
    clients: int,
    duration: float,
    n_lines: int,
    first_seq: int = 1,
    kind: str = "raw",
) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "acknowledged": set(), "errors": 0, "error_kinds": {}}
    seqs = iter(range(first_seq, 10_000_000))
    stop = time.perf_counter() + duration
    t0 = time.perf_counter()
    await asyncio.gather(
        *[_client(base, token, seqs, stop, n_lines, out, kind) for _ in range(clients)]
    )
    out["elapsed"] = time.perf_counter() - t0
    return out


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server did not start in time")


def _fresh_postgres(url: str) -> tuple[str, str, str]:
    """A new database next to ``url``'s: (its URL, the admin URL, its name)."""
    import psycopg

    u = make_url(url)
    name = f"tg_api_load_{os.getpid()}"
    admin = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return u.set(database=name).render_as_string(hide_password=False), admin, name


def _drop_postgres(admin: str, name: str) -> None:
    import psycopg

    from tradeguard.storage.engine import dispose

    dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / tick
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += _cpu_seconds(int(child))
    except (OSError, ValueError, IndexError):
        pass
    return total


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients")
    ap.add_argument("--lines", type=int, default=4, help="lines per entry")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="load generator: raw keep-alive HTTP/1.1 (cheap), or httpx (~10x its CPU)",
    )
    ap.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL URL whose server gets a fresh database; default SQLite",
    )
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="tg-api-load-")
    pg: tuple[str, str] | None = None
    if args.database_url and make_url(args.database_url).get_backend_name() == "postgresql":
        url, admin, name = _fresh_postgres(args.database_url)
        pg = (admin, name)
    else:
        url = f"sqlite:///{Path(tmp.name) / 'load.sqlite'}"
    token = _prepare(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TRADEGUARD_DATABASE_URL": url}
    cmd = [
        sys.executable,
        "-c",
        "from tradeguard.cli import app; app()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(args.workers),
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_ready(base, proc)
        # a second of warm-up outside the measurement, with enough clients to reach every
        # worker (each builds its caches on its first filings)
        asyncio.run(
            _load(
                base,
                token,
                4 * args.workers,
                1.0,
                args.lines,
                first_seq=9_000_000,
                kind=args.client,
            )
        )
        warm = _stored(url)
        cpu0, own0 = _cpu_seconds(proc.pid), time.process_time()
        out = asyncio.run(
            _load(base, token, args.clients, args.duration, args.lines, kind=args.client)
        )
        server_cpu, client_cpu = _cpu_seconds(proc.pid) - cpu0, time.process_time() - own0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    stored = _stored(url) - warm
    acked = out["acknowledged"]
    lat = out["latencies"]
    result = {
        "database": make_url(url).get_backend_name(),
        "duration_s": round(out["elapsed"], 1),
        "clients": args.clients,
        "workers": args.workers,
        "client": args.client,
        "lines_per_entry": args.lines,
        "accepted_per_second": round(len(acked) / out["elapsed"], 1),
        "p50_ms": round(_percentile(lat, 0.50), 1),
        "p99_ms": round(_percentile(lat, 0.99), 1),
        "errors": out["errors"],
        "error_kinds": out["error_kinds"],
        "acknowledged": len(acked),
        "stored": len(stored),
        "lost": len(acked - stored),
        "stored_equals_acknowledged": stored == acked,
        "lines_stored": _count_lines(url),
        # CPU per filing, independent of what else runs on the machine
        "server_cpu_ms_per_entry": round(1000 * server_cpu / max(len(acked), 1), 1),
        "client_cpu_ms_per_entry": round(1000 * client_cpu / max(len(acked), 1), 1),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }
    if pg:
        _drop_postgres(*pg)
    tmp.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
