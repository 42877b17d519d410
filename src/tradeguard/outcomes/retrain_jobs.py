"""Retraining outside the request: start a job, run it in a child process, follow it.

Training on the system of record takes from seconds to many minutes; a request must not wait
for it, and the server must keep answering pages while it runs.  :func:`start` records a
``retrain_jobs`` row (status ``running``) and launches ``python -m
tradeguard.outcomes.retrain_jobs <job id>``, a child process at lower CPU priority that runs
:func:`tradeguard.outcomes.retrain.retrain` and records ``finished`` (with the candidate's id)
or ``failed`` (with the reason).  The settings travel on the child's standard input, never on
its command line (they carry the database URL and the secret key).

One job at a time: the row of a running job holds the unique ``running_slot``, so a second
start - from this process or another server process - is a ``Conflict`` (409).  A job whose
process died (the server was killed, the machine restarted) is marked ``failed`` the next
time anyone looks, so it never blocks retraining for good.  Nothing here promotes: the
candidate waits for a targeter's explicit request (``retrain.promote``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, update

from tradeguard.errors import Conflict, NotFound, TradeguardError, ValidationFailed
from tradeguard.storage.base import insert_id
from tradeguard.storage.engine import engine_for, translated
from tradeguard.storage.entries import utcnow
from tradeguard.storage.tables_portal import retrain_jobs

HOST = socket.gethostname()[:255]
MAX_RUNTIME = timedelta(hours=6)  # a job older than this is taken for dead, wherever it ran
LAUNCH_GRACE = timedelta(minutes=2)  # a job without a process id after this never started
NICENESS = 10  # the training yields the CPU to the pages

__all__ = ["get", "latest", "start", "wait"]


def _row(conn: Any, job_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(retrain_jobs).where(retrain_jobs.c.id == job_id)).mappings().first()
    return dict(row) if row else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _finish(
    engine: Engine,
    job_id: int,
    status: str,
    *,
    model_id: str | None = None,
    error: str | None = None,
    result: dict[str, Any] | None = None,
) -> bool:
    """Close a running job; False when it was closed already (first writer wins)."""
    with translated(), engine.begin() as conn:
        done = conn.execute(
            update(retrain_jobs)
            .where(retrain_jobs.c.id == job_id, retrain_jobs.c.status == "running")
            .values(
                status=status,
                running_slot=None,
                finished_at=utcnow(),
                model_id=model_id,
                error=error,
                result=result,
            )
        )
        return bool(done.rowcount)


def reap(engine: Engine) -> None:
    """Mark failed the running jobs whose process is gone or that ran past ``MAX_RUNTIME``."""
    now = utcnow()
    with translated(), engine.connect() as conn:
        running = conn.execute(
            select(retrain_jobs).where(retrain_jobs.c.status == "running")
        ).mappings().all()  # fmt: skip
    for job in running:
        reason = None
        if now - job["started_at"] > MAX_RUNTIME:
            reason = f"the training ran longer than {MAX_RUNTIME} and was given up"
        elif job["host"] == HOST and job["pid"] is not None and not _alive(job["pid"]):
            reason = "the training process stopped before finishing (was the server restarted?)"
        elif job["pid"] is None and now - job["started_at"] > LAUNCH_GRACE:
            reason = "the training process never started"
        if reason:
            _finish(engine, job["id"], "failed", error=reason)


def get(url: str, job_id: int) -> dict[str, Any]:
    """The job ``job_id`` (``NotFound`` if unknown), dead processes noticed first."""
    engine = engine_for(url)
    reap(engine)
    with translated(), engine.connect() as conn:
        job = _row(conn, job_id)
    if job is None:
        raise NotFound(f"no retraining job {job_id}")
    return job


def latest(url: str) -> dict[str, Any] | None:
    """The most recently started job, or None."""
    engine = engine_for(url)
    reap(engine)
    with translated(), engine.connect() as conn:
        row = conn.execute(
            select(retrain_jobs).order_by(retrain_jobs.c.id.desc()).limit(1)
        ).mappings().first()  # fmt: skip
    return dict(row) if row else None


def claim(engine: Engine, actor: str) -> int:
    """Record a new running job (dead ones reaped first); ``Conflict`` if one is running."""
    reap(engine)
    try:
        with translated(), engine.begin() as conn:
            return insert_id(
                conn,
                insert(retrain_jobs).values(
                    status="running", running_slot=1, started_by=actor,
                    started_at=utcnow(), host=HOST,
                ),
            )  # fmt: skip
    except Conflict as exc:
        with engine.connect() as conn:
            other = conn.execute(
                select(retrain_jobs).where(retrain_jobs.c.status == "running")
            ).mappings().first()  # fmt: skip
        who = f" (job {other['id']}, started by {other['started_by']})" if other else ""
        raise Conflict(f"a retraining is running already{who}; wait for it to finish") from exc


def start(
    url: str,
    actor: str,
    settings: Any,
    *,
    user_id: int | None = None,
    out_dir: Path | str | None = None,
) -> dict[str, Any]:
    """Record a running job and launch the process that trains; returns the job.

    Raises ``ValidationFailed`` at once when there is no outcome to learn from (no process is
    started for nothing) and ``Conflict`` when a job is running already.  ``out_dir`` (default ``./models``)
    receives the candidate bundle and the job's log ``retrain-job-<id>.log``.
    """
    from tradeguard.outcomes.retrain import DEFAULT_OUT
    from tradeguard.storage.tables_foundation import findings

    engine = engine_for(url)
    with translated(), engine.connect() as conn:
        if conn.execute(select(findings.c.id).limit(1)).first() is None:
            raise ValidationFailed("no outcomes in the system of record - nothing to learn from")
    job_id = claim(engine, actor)
    directory = Path(out_dir or DEFAULT_OUT).resolve()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        log = directory / f"retrain-job-{job_id}.log"
        payload = {
            "url": url,
            "actor": actor,
            "user_id": user_id,
            "out_dir": str(directory),
            "settings": json.loads(settings.model_dump_json()) if settings is not None else None,
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "tradeguard.outcomes.retrain_jobs", str(job_id)],
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.STDOUT,
                close_fds=True,
            )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(payload).encode())
        proc.stdin.close()
    except OSError as exc:
        _finish(engine, job_id, "failed", error=f"could not start the training process: {exc}")
        raise TradeguardError(f"could not start the training process: {exc}") from exc
    with translated(), engine.begin() as conn:
        conn.execute(update(retrain_jobs).where(retrain_jobs.c.id == job_id).values(pid=proc.pid))
    threading.Thread(
        target=_watch, args=(engine, job_id, proc, log), name=f"retrain-job-{job_id}", daemon=True
    ).start()
    return get(url, job_id)


def _watch(engine: Engine, job_id: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Reap the child; if it died without recording an outcome, record the failure."""
    code = proc.wait()
    if code != 0:
        _finish(
            engine,
            job_id,
            "failed",
            error=f"the training process ended with exit code {code}; its log is {log}",
        )


def wait(url: str, job_id: int, timeout: float = 600.0, poll: float = 0.5) -> dict[str, Any]:
    """Block until the job is no longer running (for the CLI and tests); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        job = get(url, job_id)
        if job["status"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(poll)


def _run(job_id: int, payload: dict[str, Any]) -> int:
    """The child process: train, then record the outcome of the job."""
    from tradeguard.config import Settings
    from tradeguard.outcomes.retrain import retrain

    engine = engine_for(payload["url"])
    settings = Settings(**payload["settings"]) if payload.get("settings") else None
    try:
        summary = retrain(
            payload["url"],
            payload["actor"],
            user_id=payload.get("user_id"),
            out_dir=payload["out_dir"],
            settings=settings,
        )
    except TradeguardError as exc:
        _finish(engine, job_id, "failed", error=str(exc))
        return 0
    except Exception as exc:  # anything else: recorded for the targeter, traceback in the log
        traceback.print_exc()
        _finish(engine, job_id, "failed", error=f"unexpected error: {type(exc).__name__}: {exc}")
        return 1
    keep = ("train_lines", "test_lines", "labelled_lines", "positives", "cut",
            "load_seconds", "train_seconds", "total_seconds", "path")  # fmt: skip
    _finish(
        engine,
        job_id,
        "finished",
        model_id=summary["id"],
        result={k: summary.get(k) for k in keep},
    )
    return 0


if __name__ == "__main__":
    if hasattr(os, "nice"):
        os.nice(NICENESS)
    sys.exit(_run(int(sys.argv[1]), json.loads(sys.stdin.read())))
