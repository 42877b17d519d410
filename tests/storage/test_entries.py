"""Entries repository: read with lines, list with filters and pages, the status lifecycle."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import make_batch, make_outcome
from tradeguard import storage
from tradeguard.domain.codes import EntryStatus
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.storage import entries as repo
from tradeguard.storage.findings import finding_counts, findings_for_entry, insert_findings
from tradeguard.storage.parties import get_party, party_counts
from tradeguard.storage.tables_foundation import entries, entry_events, lines, parties

T0 = datetime(2026, 6, 10, 9, 0)


def store(url: str, batch: dict) -> None:
    """Insert a factory batch straight into the tables (status filed)."""
    with storage.transaction(url) as conn:
        conn.execute(
            parties.insert(),
            [{**p, "content_hash": "x", "created_at": T0} for p in _unique(batch["parties"])],
        )
        conn.execute(
            entries.insert(),
            [
                {
                    **e,
                    "status": "filed",
                    "status_at": e["filed_at"],
                    "created_at": T0,
                    "content_hash": "x",
                }
                for e in batch["entries"]
            ],
        )
        conn.execute(lines.insert(), [{**ln, "content_hash": "x"} for ln in batch["lines"]])


def _unique(rows: list[dict]) -> list[dict]:
    return list({(r["party_id"], r["role"]): r for r in rows}.values())


@pytest.fixture
def loaded(migrated_url: str) -> tuple[str, dict]:
    batch = make_batch(random.Random(3), n_entries=40, max_lines=3)
    store(migrated_url, batch)
    return migrated_url, batch


def test_get_entry_with_lines(loaded) -> None:
    url, batch = loaded
    e = batch["entries"][0]
    with storage.transaction(url) as conn:
        got = repo.get_entry(conn, e["entry_number"].replace("-", "").lower())
    assert got["entry_number"] == e["entry_number"]
    assert got["status"] == "filed"
    want = [ln for ln in batch["lines"] if ln["entry_number"] == e["entry_number"]]
    assert [ln["line_number"] for ln in got["lines"]] == list(range(1, len(want) + 1))
    assert got["lines"][0]["value_usd"] == Decimal(str(want[0]["value_usd"])).quantize(
        Decimal("0.01")
    )
    with storage.transaction(url) as conn, pytest.raises(NotFound):
        repo.get_entry(conn, "ABC-9999999-0")


def test_list_entries_filters_and_pages(loaded) -> None:
    url, batch = loaded
    importer = batch["entries"][0]["importer_id"]
    mine = sorted(
        (e for e in batch["entries"] if e["importer_id"] == importer),
        key=lambda e: (-e["filed_at"].timestamp(), e["entry_number"]),
    )
    with storage.transaction(url) as conn:
        seen, offset = [], 0
        while offset is not None:
            page = repo.list_entries(conn, importer_id=importer, limit=2, offset=offset)
            assert page.total == len(mine) and len(page.items) <= 2
            seen += [e["entry_number"] for e in page.items]
            offset = page.next_offset
        assert seen == [e["entry_number"] for e in mine]

        port = batch["entries"][5]["port_code"]
        start = min(e["filed_at"] for e in batch["entries"])
        end = start + timedelta(days=2)
        page = repo.list_entries(conn, port_code=port, filed_from=start, filed_to=end, limit=100)
        want = {
            e["entry_number"]
            for e in batch["entries"]
            if e["port_code"] == port and start <= e["filed_at"] < end
        }
        assert {e["entry_number"] for e in page.items} == want
        assert page.next_offset is None
        with pytest.raises(ValidationFailed):
            repo.list_entries(conn, limit=0)


def test_status_lifecycle_is_recorded(loaded) -> None:
    url, batch = loaded
    number = batch["entries"][1]["entry_number"]
    steps = [
        (EntryStatus.ASSESSED, "system"),
        (EntryStatus.HELD, "officer:jdoe"),
        (EntryStatus.RELEASED, "officer:jdoe"),
        (EntryStatus.LIQUIDATED, "system"),
    ]
    with storage.transaction(url) as conn:
        for i, (status, actor) in enumerate(steps):
            repo.transition(
                conn, number, status, actor=actor, at=T0 + timedelta(hours=i), reason=f"s{i}"
            )
        got = repo.get_entry(conn, number, with_lines=False)
        events = (
            conn.execute(
                select(entry_events)
                .where(entry_events.c.entry_number == number)
                .order_by(entry_events.c.id)
            )
            .mappings()
            .all()
        )
    assert got["status"] == "liquidated"
    assert got["released_at"] == T0 + timedelta(hours=2)
    assert got["liquidated_at"] == T0 + timedelta(hours=3)
    assert [(e["from_status"], e["to_status"], e["actor"]) for e in events] == [
        ("filed", "assessed", "system"),
        ("assessed", "held", "officer:jdoe"),
        ("held", "released", "officer:jdoe"),
        ("released", "liquidated", "system"),
    ]


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ([], EntryStatus.RELEASED),  # filed -> released skips assessment
        ([EntryStatus.ASSESSED, EntryStatus.RELEASED], EntryStatus.HELD),  # no going back
        ([EntryStatus.ASSESSED, EntryStatus.HELD, EntryStatus.SEIZED], EntryStatus.RELEASED),
        ([EntryStatus.ASSESSED, EntryStatus.HELD, EntryStatus.REFUSED], EntryStatus.LIQUIDATED),
    ],
)
def test_illegal_transitions_conflict(loaded, path, target) -> None:
    url, batch = loaded
    number = batch["entries"][2]["entry_number"]
    with storage.transaction(url) as conn:
        for i, status in enumerate(path):
            repo.transition(conn, number, status, actor="t", at=T0 + timedelta(hours=i))
    with storage.transaction(url) as conn:
        with pytest.raises(Conflict, match="cannot become"):
            repo.transition(conn, number, target, actor="t", at=T0 + timedelta(days=1))
        assert len(repo.history(conn, number)) == len(path)


def test_transition_refusals(loaded) -> None:
    url, batch = loaded
    e = batch["entries"][3]
    with storage.transaction(url) as conn:
        with pytest.raises(Conflict, match="earlier"):
            repo.transition(
                conn, e["entry_number"], "assessed", actor="t", at=e["filed_at"] - timedelta(1)
            )
        with pytest.raises(ValidationFailed):
            repo.transition(conn, e["entry_number"], "teleported", actor="t")
        with pytest.raises(ValidationFailed):
            repo.transition(conn, e["entry_number"], "assessed", actor="")
        with pytest.raises(NotFound):
            repo.transition(conn, "ABC-9999999-0", "assessed", actor="t")


def test_totals_and_counts(loaded) -> None:
    url, batch = loaded
    with storage.transaction(url) as conn:
        t = repo.totals(conn)
        assert t.entries == len(batch["entries"])
        assert t.lines == len(batch["lines"])
        assert t.value_usd == sum(Decimal(str(ln["value_usd"])) for ln in batch["lines"])
        assert t.importers == len({e["importer_id"] for e in batch["entries"]})
        assert repo.status_counts(conn) == {"filed": len(batch["entries"])}
        assert party_counts(conn) == {"importer": len(_unique(batch["parties"]))}
        p = batch["parties"][0]
        assert get_party(conn, p["party_id"])["name"] == p["name"]
        n = conn.execute(select(func.count()).select_from(lines)).scalar_one()
        assert n == len(batch["lines"])


def test_findings_insert_and_validation(loaded) -> None:
    url, batch = loaded
    line = batch["lines"][0]
    found = make_outcome(
        line,
        discrepancy=True,
        violation="undervaluation",
        pti="revenue",
        revenue_found_usd=1234.5,
        selected_by="targeted",
    )
    found["recorded_at"] = found.pop("known_at")
    found["recorded_by"] = "officer:jdoe"
    with storage.transaction(url) as conn:
        assert insert_findings(conn, [found, {**found, "kind": "audit", "line_number": None}]) == 2
        got = findings_for_entry(conn, line["entry_number"])
        assert [f["kind"] for f in got] == ["exam", "audit"]
        assert got[0]["revenue_found_usd"] == Decimal("1234.50")
        assert finding_counts(conn)[("exam", "targeted", True)] == 1
    bad = {
        **found,
        "selected_by": "hunch",
        "violation": "undervaluation",
        "pti": "ipr",
        "revenue_found_usd": -1,
    }
    with storage.transaction(url) as conn, pytest.raises(ValidationFailed) as err:
        insert_findings(conn, [bad])
    fields = {i.field for i in err.value.issues}
    assert fields == {"findings[0].selected_by", "findings[0].pti", "findings[0].revenue_found_usd"}
    # an unknown line: the foreign key refuses it
    with pytest.raises(Conflict), storage.transaction(url) as conn:
        insert_findings(conn, [{**found, "line_number": 99}])
