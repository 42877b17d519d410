"""Filing many entries at once: an ABI transmission (``POST /abi``, text/plain) or a CSV/Parquet
upload (``POST /entries/batch``, multipart).

Both are validated whole before anything is stored: every issue of every entry comes back in
one 422 (ABI issues name the record and the character positions; upload issues the entry
index).  Then each entry is filed like a JSON filing, idempotently (a replayed entry answers
its first result; ABI action ``R`` replaces an entry not yet released).  Each entry commits on
its own (several at a time, so that they are scored and laned in batches), so a 409 on one
entry leaves the others filed; sending the same transmission again replays them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from pydantic import BaseModel

from tradeguard.api.deps import Database, Principal, allow, get_db, get_settings
from tradeguard.api.filing import Filed, authorise, file_entry
from tradeguard.api.pipeline import Pipeline
from tradeguard.api.problems import responses
from tradeguard.api.routes.entries import get_pipeline, get_policy
from tradeguard.api.upload import entries_of, read_flat
from tradeguard.config import Settings
from tradeguard.domain.codes import Role
from tradeguard.errors import Issue, PayloadTooLarge, ValidationFailed
from tradeguard.ingest.wire import Charges, EntryCreate, EntryPublic

router = APIRouter(tags=["entries"])
FILER = allow(Role.FILER)
MAX_ENTRIES_PER_BATCH = 1000
FILING_THREADS = 8


class BatchResult(BaseModel):
    """What a multi-entry filing did: each entry's filer view, and how many were new."""

    created: int
    replayed: int
    entries: list[EntryPublic]
    warnings: list[dict[str, Any]] = []


Job = tuple[EntryCreate, bool, Callable[[list[Issue]], list[Issue]]]


def file_all(
    db: Database,
    pipeline: Pipeline,
    policy: Any,
    principal: Principal,
    jobs: list[Job],
    issues: list[Issue],
) -> tuple[int, int, list[EntryPublic]]:
    """Validate every job (collecting all issues), then file each; (created, replayed, views)."""
    priced: list[tuple[Charges, dict[int, Charges]]] = []
    for entry, _replace, relocate in jobs:
        authorise(principal, entry)
        try:
            priced.append(pipeline.accept(entry))
        except ValidationFailed as exc:
            issues.extend(relocate(exc.issues))
    if issues:
        raise ValidationFailed(f"refused: {len(issues)} issue(s)", issues=issues)

    def one(job: tuple[Job, tuple[Charges, dict[int, Charges]]]) -> Filed:
        (entry, replace, _), price = job
        return file_entry(db, pipeline, policy, principal, entry, replace=replace, priced=price)

    # A few filings at once, so the pipeline scores and lanes them in batches; every entry is
    # attempted, and the first failure (a 409) is raised after the others are done.
    with ThreadPoolExecutor(max_workers=FILING_THREADS) as pool:
        futures = [pool.submit(one, job) for job in zip(jobs, priced, strict=True)]
    filed = []
    for f in futures:
        failure = f.exception()
        if failure is not None:
            raise failure
        filed.append(f.result())
    created = sum(f.created for f in filed)
    return created, len(filed) - created, [f.entry for f in filed]


async def abi_text(request: Request) -> bytes:
    """The raw body of an ABI transmission (the body limit applies before it is read)."""
    return await request.body()


@router.post(
    "/abi",
    status_code=201,
    response_model=BatchResult,
    responses={
        200: {"description": "Every entry was filed before: their first answers"},
        **responses(409, 413, 415),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "ACE ABI Entry Summary records (10, 11, 40, 50, 53, 88, 89, 90) in "
            "A/B/Y/Z envelopes, 80 characters a record",
        }
    },
    summary="File entries as ABI Entry Summary records",
)
def file_abi(
    response: Response,
    body: Annotated[bytes, Depends(abi_text)],
    principal: Annotated[Principal, Depends(FILER)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    policy: Annotated[Any, Depends(get_policy)],
) -> BatchResult:
    from tradeguard.ingest.abi import parse_abi
    from tradeguard.ingest.abi_records import location

    parsed = parse_abi(body)
    issues = list(parsed.issues)
    jobs: list[Job] = []
    for filing in parsed.filings:
        if filing.action == "D":
            issues.append(
                Issue(
                    location("10", filing.record_line),
                    "action D (delete) is not accepted through the API; ask the port",
                    filing.entry_number,
                )
            )
        elif filing.entry is not None:
            jobs.append((filing.entry, filing.action == "R", filing.relocate))
    created, replayed, views = file_all(db, pipeline, policy, principal, jobs, issues)
    response.status_code = 201 if created else 200
    return BatchResult(
        created=created,
        replayed=replayed,
        entries=views,
        warnings=[w.as_dict() for w in parsed.warnings],
    )


@router.post(
    "/entries/batch",
    status_code=201,
    response_model=BatchResult,
    responses={
        200: {"description": "Every entry was filed before: their first answers"},
        **responses(409, 413),
    },
    summary="File entries from a CSV or Parquet upload (one row per line)",
)
async def file_batch(
    response: Response,
    file: Annotated[UploadFile, File(description="CSV or Parquet, ENTRIES + LINES columns")],
    principal: Annotated[Principal, Depends(FILER)],
    db: Annotated[Database, Depends(get_db)],
    pipeline: Annotated[Pipeline, Depends(get_pipeline)],
    policy: Annotated[Any, Depends(get_policy)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> BatchResult:
    from starlette.concurrency import run_in_threadpool

    data = await file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the upload exceeds {settings.max_upload_bytes} bytes")

    def work() -> BatchResult:
        entries = entries_of(read_flat(data, file.filename), max_entries=MAX_ENTRIES_PER_BATCH)
        jobs: list[Job] = [(e, False, _prefixer(f"entries[{i}].")) for i, e in enumerate(entries)]
        created, replayed, views = file_all(db, pipeline, policy, principal, jobs, [])
        response.status_code = 201 if created else 200
        return BatchResult(created=created, replayed=replayed, entries=views)

    # validation, scoring and storage are blocking work: keep them off the event loop
    return await run_in_threadpool(work)


def _prefixer(prefix: str) -> Callable[[list[Issue]], list[Issue]]:
    def relocate(issues: list[Issue]) -> list[Issue]:
        return [Issue(prefix + i.field, i.message, i.value) for i in issues]

    return relocate
