"""Response times of every portal page on the demo data, for every role.

Builds the demo data once (``tradeguard.demo``: generate, ingest, train, score and lane, release
the history, a user per role) and keeps it under ``$TMPDIR/tradeguard-portal-bench`` for later
runs; starts ``tradeguard serve`` on 127.0.0.1 against it (a subprocess, as in production);
signs in as each role through the sign-in form; finds that role's pages by following the links
of the portal from its home page (so pages added later are timed without editing this script),
keeping one address per page (route); then times each page: the first request separately
(``cold_ms``, caches empty) and ``--requests`` more (median and p95).  Prints one JSON line:

    {"target_ms": 300, "ok": true, "max_median_ms", "max_p95_ms", "slowest",
     "pages": {"officer GET /queues/exam": {"url", "cold_ms", "median_ms", "p95_ms", "n"}, ...},
     "data": {"entries", "lines", "importers"}, "build_seconds", ...}

``ok`` is true when every page's median and p95 are under the target.

    .venv/bin/python benchmarks/portal_pages.py [--requests 10] [--dir DIR] [--rebuild]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

TARGET_MS = 300.0
ROLES = ("filer", "officer", "import_specialist", "auditor", "targeter",
         "penalties_officer", "supervisor", "admin")  # fmt: skip
MAX_VISITS = 60  # pages fetched per role while looking for its pages


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_demo(directory: Path, rebuild: bool = False) -> dict[str, Any]:
    """The demo data under ``directory`` (built on the first run, reused afterwards).

    The plan (with the day it was built for) is kept in ``plan.json`` so that a later run
    reuses the same data instead of generating another day's.
    """
    from tradeguard.demo import DemoPlan, run_demo

    plan_file, done = directory / "plan.json", directory / ".complete"
    if rebuild or not done.exists():
        directory.mkdir(parents=True, exist_ok=True)
        plan_file.write_text(json.dumps({"today": date.today().isoformat()}))
        done.unlink(missing_ok=True)
    today = date.fromisoformat(json.loads(plan_file.read_text())["today"])
    plan = DemoPlan(directory, today=today)
    seconds = 0.0
    if not done.exists():
        t0 = time.perf_counter()
        # the demo prints its steps; keep stdout for the one JSON line
        saved = sys.stdout
        sys.stdout = sys.stderr
        try:
            run_demo(plan, serve=False, host="127.0.0.1", port=0)
        finally:
            sys.stdout = saved
        seconds = time.perf_counter() - t0
        done.touch()
    return {"plan": plan, "build_seconds": round(seconds, 1)}


def _users(url: str) -> dict[str, tuple[str, str]]:
    from tradeguard.web.demo_users import ensure_demo_users

    return {role: (u, p) for role, u, p in ensure_demo_users(url)}


def _data_size(url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from tradeguard.storage import engine_for
    from tradeguard.storage.tables_foundation import entries, lines

    with engine_for(url).connect() as conn:
        return {
            "entries": conn.execute(select(func.count()).select_from(entries)).scalar_one(),
            "lines": conn.execute(select(func.count()).select_from(lines)).scalar_one(),
            "importers": conn.execute(
                select(func.count(func.distinct(entries.c.importer_id)))
            ).scalar_one(),
        }


def _page_routes() -> list[tuple[str, re.Pattern[str]]]:
    """The portal's GET pages as (route path, regex), from the app's own routes."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from tradeguard.api.app import create_app
    from tradeguard.config import Settings

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(sqlite_path=Path(tmp) / "routes.sqlite"), migrate=False)
    out = []
    for ctx in iter_route_contexts(app.routes):
        get = isinstance(ctx.route, APIRoute) and "GET" in (ctx.methods or ())
        if get and ctx.path != "/plotly.min.js":
            pattern = re.sub(r"\{\w+\}", "[^/]+", ctx.path)
            out.append((ctx.path, re.compile(f"^{pattern}$")))
    return out


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def _route_of(path: str, routes: list[tuple[str, re.Pattern[str]]]) -> str | None:
    for name, regex in routes:
        if regex.match(path):
            return name
    return None


def _sign_in(client: httpx.Client, username: str, password: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    data = {"username": username, "password": password}
    if token:
        data["csrf_token"] = token.group(1)
    r = client.post("/login", data=data)
    if r.status_code != 303:
        raise RuntimeError(f"sign-in of {username} failed: {r.status_code} {r.text[:200]}")


def _timed_get(client: httpx.Client, url: str) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    r = client.get(url)
    return (time.perf_counter() - t0) * 1000, r


def _discover(
    client: httpx.Client, routes: list[tuple[str, re.Pattern[str]]]
) -> dict[str, tuple[str, float]]:
    """Follow the portal's links from the home page; route -> (first URL, its time in ms)."""
    found: dict[str, tuple[str, float]] = {}
    queue, seen = deque(["/"]), {"/"}
    visits = 0
    while queue and visits < MAX_VISITS:
        url = queue.popleft()
        route = _route_of(urlsplit(url).path, routes)
        if route is None or route in found:
            continue
        ms, r = _timed_get(client, url)
        visits += 1
        if r.status_code != 200:
            continue
        found[route] = (url, ms)
        parser = _Links()
        parser.feed(r.text)
        for href in parser.hrefs:
            target = urlsplit(urljoin("http://portal" + url, href))
            if target.netloc != "portal" or "msg=" in target.query:
                continue
            local = target.path + (f"?{target.query}" if target.query else "")
            if local not in seen and _route_of(target.path, routes) not in found:
                seen.add(local)
                queue.append(local)
    return found


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=10, help="timed requests per page (>= 10)")
    ap.add_argument(
        "--dir", type=Path, default=Path(tempfile.gettempdir()) / "tradeguard-portal-bench"
    )
    ap.add_argument("--rebuild", action="store_true", help="build the demo data again")
    args = ap.parse_args()
    n = max(10, args.requests)

    built = build_demo(args.dir, args.rebuild)
    plan = built["plan"]
    users = _users(plan.url)
    routes = _page_routes()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env |= {
        "TRADEGUARD_SQLITE_PATH": str(plan.sqlite_path),
        "TRADEGUARD_BUNDLE_DIR": str(plan.directory / "model"),
    }
    exe = Path(sys.executable).with_name("tradeguard")
    server = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=plan.directory,
        stdout=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    pages: dict[str, dict[str, Any]] = {}
    try:
        t0 = time.perf_counter()
        while True:
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.perf_counter() - t0 > 120:
                    raise RuntimeError("tradeguard serve did not start") from None
                time.sleep(0.2)
        startup = time.perf_counter() - t0
        for role in ROLES:
            with httpx.Client(base_url=base, timeout=60) as client:
                _sign_in(client, *users[role])
                for route, (url, cold) in _discover(client, routes).items():
                    times = []
                    for _ in range(n):
                        ms, r = _timed_get(client, url)
                        if r.status_code != 200:
                            raise RuntimeError(f"{role} {url}: {r.status_code}")
                        times.append(ms)
                    pages[f"{role} GET {route}"] = {
                        "url": url,
                        "cold_ms": round(cold, 1),
                        "median_ms": round(statistics.median(times), 1),
                        "p95_ms": round(_p95(times), 1),
                        "n": n,
                    }
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    slowest = max(pages, key=lambda k: pages[k]["median_ms"])
    result = {
        "target_ms": TARGET_MS,
        "ok": all(p["median_ms"] < TARGET_MS and p["p95_ms"] < TARGET_MS for p in pages.values()),
        "max_median_ms": pages[slowest]["median_ms"],
        "max_p95_ms": max(p["p95_ms"] for p in pages.values()),
        "max_cold_ms": max(p["cold_ms"] for p in pages.values()),
        "slowest": slowest,
        "pages_timed": len(pages),
        "server_start_seconds": round(startup, 1),
        "build_seconds": built["build_seconds"],
        "data": _data_size(plan.url),
        "pages": pages,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
