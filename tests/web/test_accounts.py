"""The importer account: it follows the resolved entity (a renamed violator keeps its history),
compares the importer with a real peer group, and keeps to the officer's ports.

Runs on SQLite and, when configured, PostgreSQL (``migrated_url``), over a small system of
record built here: a violator that re-registered under a new IOR number and name, linked to
its earlier record by entity resolution, and a handful of peers and non-peers.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from tests.api.api_fakes import FakePipeline
from tests.api.conftest import Users, make_settings
from tests.factories import make_entry, make_line, make_outcome, make_party, write_batch
from tests.web.conftest import sign_in
from tradeguard.api.deps import utcnow
from tradeguard.domain.codes import VIOLATION_PTI, Role, Violation
from tradeguard.storage import engine_for
from tradeguard.storage.tables_api import audit_log, decisions
from tradeguard.storage.tables_entities import entity_links

OLD, NEW = "11-1111111100", "22-2222222200"  # the violator before and after re-registering
PEER1, PEER2 = "33-3333333300", "44-4444444400"  # textiles, $100k-$1M a year: peers
OUTSIDER, BIG = "55-5555555500", "66-6666666600"  # machinery; textiles at $5M: not peers
HERE, THERE = "2704", "1001"
SHIRTS, LAPTOPS = "6109100012", "8471300100"


def _number(seq: int) -> str:
    from tradeguard.domain.check_digit import format_entry_number

    return format_entry_number("ABC", seq)


# (sequence, importer, port, hts, value, days ago, lane, finding)
ENTRIES: list[tuple[int, str, str, str, float, int, str | None, str | None]] = [
    (1, OLD, HERE, SHIRTS, 120_000, 200, None, "undervaluation"),
    (2, OLD, HERE, SHIRTS, 120_000, 150, None, None),
    (3, OLD, HERE, SHIRTS, 120_000, 120, None, None),
    (4, OLD, THERE, SHIRTS, 120_000, 100, None, "counterfeit"),
    (5, NEW, HERE, SHIRTS, 100_000, 3, "exam", None),
    (6, NEW, HERE, SHIRTS, 100_000, 2, "release", None),
    (7, PEER1, HERE, SHIRTS, 300_000, 30, "document_review", "compliant"),
    (8, PEER2, HERE, SHIRTS, 250_000, 20, "release", None),
    (9, PEER2, THERE, SHIRTS, 250_000, 10, "exam", "compliant"),
    (10, OUTSIDER, HERE, LAPTOPS, 400_000, 15, "exam", "misclassification"),
    (11, BIG, HERE, SHIRTS, 5_000_000, 15, "exam", "undervaluation"),
]


def _build(url: str, directory: Path) -> None:
    from tradeguard.ingest.loader import ingest
    from tradeguard.outcomes.enforcement import open_penalty_case
    from tradeguard.outcomes.seizures import seize
    from tradeguard.storage.entries import transition

    rng = random.Random(11)
    now = utcnow()
    names = {OLD: "Harbor Imports LLC", NEW: "Harbour Imports Co", PEER1: "Peer One",
             PEER2: "Peer Two", OUTSIDER: "Chips Inc", BIG: "Big Textiles"}  # fmt: skip
    batch: dict[str, list[dict[str, Any]]] = {"entries": [], "lines": [], "parties": [],
                                              "outcomes": []}  # fmt: skip
    for party, name in names.items():
        batch["parties"].append(make_party(rng, "importer", party_id=party, name=name,
                                           trusted_status="none", trusted_since=None,
                                           trusted_verified=None))  # fmt: skip
    for seq, importer, port, hts, value, ago, _lane, finding in ENTRIES:
        filed = now - timedelta(days=ago)
        entry = make_entry(rng, sequence=seq, filer_code="ABC", importer_id=importer,
                           port_code=port, mode="vessel", entry_type="01", filed_at=filed,
                           arrival_date=filed.date(), export_date=filed.date() - timedelta(20))  # fmt: skip
        line = make_line(rng, entry["entry_number"], 1, hts=hts, origin="VN",
                         export_country="VN", value_usd=value)  # fmt: skip
        batch["entries"].append(entry)
        batch["lines"].append(line)
        if finding is not None:
            found = finding != "compliant"
            batch["outcomes"].append(
                make_outcome(
                    line,
                    selected_by="targeted",
                    discrepancy=found,
                    violation=finding if found else None,
                    pti=VIOLATION_PTI[Violation(finding)].value if found else None,
                    revenue_found_usd=5000.0 if found else 0.0,
                    known_at=filed + timedelta(days=2),
                )  # fmt: skip
            )
    write_batch(batch, directory)
    ingest(directory, url, rejects=directory / "rejects.csv", progress=False)
    with engine_for(url).begin() as conn:
        for seq, _imp, port, _hts, _v, _ago, lane, _f in ENTRIES:
            if lane is not None:
                conn.execute(insert(decisions).values(
                    entry_number=_number(seq), port_code=port, lane=lane, score=0.5,
                    random_sample=False, decided_at=now, reason="test"))  # fmt: skip
        conn.execute(insert(entity_links), [
            {"party_id": NEW, "role": "importer", "entity_id": f"E:{OLD}",
             "match_weight": 12.0, "match_probability": 0.97, "resolved_at": now},
            {"party_id": OLD, "role": "importer", "entity_id": f"E:{OLD}",
             "match_weight": 12.0, "match_probability": 0.97, "resolved_at": now},
        ])  # fmt: skip
        open_penalty_case(conn, _number(1), culpability="negligence", actor="fpf-1")
        transition(conn, _number(4), "assessed", actor="targeting")
        transition(conn, _number(4), "held", actor="targeting")
        seize(conn, _number(4), goods_description="counterfeit shirts", value_usd=20_000,
              actor="officer-1")  # fmt: skip


@pytest.fixture
def world(migrated_url: str, tmp_path: Path) -> dict[str, Any]:
    _build(migrated_url, tmp_path / "data")
    app = create_app_for(migrated_url)
    users = Users(migrated_url)
    for role, name, ports in ((Role.SUPERVISOR, "sup", None), (Role.OFFICER, "off", [HERE]),
                              (Role.PENALTIES_OFFICER, "fpf", None)):  # fmt: skip
        users.make(role, username=name, ports=ports)
    return {"app": app, "url": migrated_url}


def create_app_for(url: str) -> Any:
    from tradeguard.api.app import create_app

    return create_app(make_settings(url), pipeline=FakePipeline())


def _page(world: dict[str, Any], username: str, importer: str) -> tuple[int, str]:
    with TestClient(world["app"]) as c:
        sign_in(c, username, "correct horse battery")
        r = c.get(f"/importers/{importer}")
        return r.status_code, r.text


def _cell(html: str, id_: str) -> str:
    m = re.search(rf'id="{id_}">([^<]*)<', html)
    assert m, f"no #{id_} on the page"
    return m.group(1).strip()


def _section(html: str, id_: str) -> str:
    start = html.index(f'id="{id_}"')
    return html[start : html.index("</section>", start)]


def test_renamed_violator_shows_the_history_of_its_earlier_identity(world) -> None:
    status, html = _page(world, "fpf", NEW)
    assert status == 200
    linked = _section(html, "linked-records")
    assert OLD in linked and "Harbor Imports LLC" in linked and "97.0%" in linked
    # the earlier identity's discrepancies, labelled as coming from the linked record
    discrepancies = html[html.index('id="discrepancies"') :].split("</table>")[0]
    for seq in (1, 4):
        row = re.search(rf"<tr><td><a href=\"/entries/{_number(seq)}\".*?</tr>", discrepancies)
        assert row and "linked" in row.group(0) and OLD in row.group(0)
    assert _cell(html, "inspected") == "2" and _cell(html, "finding-rate") == "100.0%"
    assert _cell(html, "n-entries") == "6"  # 4 entries of the old record, 2 of the new
    cases = _section(html, "penalty-cases")
    assert _number(1) in cases and "linked" in cases and "negligence" in cases
    seizures = _section(html, "seizures")
    assert _number(4) in seizures and "counterfeit shirts" in seizures and "linked" in seizures
    # the old record's account shows the new one the same way
    status, old = _page(world, "fpf", OLD)
    assert status == 200 and NEW in _section(old, "linked-records")
    with engine_for(world["url"]).connect() as conn:
        detail = conn.execute(
            select(audit_log.c.detail).where(
                audit_log.c.resource_type == "importer_account", audit_log.c.resource_id == NEW
            )
        ).scalar_one()
    assert detail["records"] == [NEW, OLD]


def test_peers_are_importers_of_the_same_value_band_and_main_section(world) -> None:
    status, html = _page(world, "sup", NEW)
    assert status == 200
    group = _cell(html, "peer-group")
    # $680k a year of T-shirts: peers are the other textile importers under $1M, not the
    # machinery importer of the same size nor the $5M textile importer
    assert group.startswith("Peers: 2 other importers declaring $100k to $1M a year")
    assert "section 11 (textiles and apparel)" in group
    assert _cell(html, "peer-exam-rate") == "66.7%"  # 2 of the peers' 3 entries laned held
    assert _cell(html, "peer-finding-rate") == "0.0%"  # both inspected, both compliant
    assert _cell(html, "exam-rate") == "50.0%"  # the new record: one exam, one release


def test_officer_sees_the_account_within_its_ports_only(world) -> None:
    status, html = _page(world, "off", NEW)
    assert status == 200
    assert HERE in _cell(html, "scope")
    # the old record's entry at the other port counts nowhere: not in the rates, not listed
    assert _cell(html, "inspected") == "1" and _cell(html, "n-entries") == "5"
    assert _number(4) not in html
    assert "Not shown to your role" in _section(html, "penalty-cases")  # officers: no cases
    # peers in this port only: the peers' entry at the other port is left out
    assert _cell(html, "peer-exam-rate") == "50.0%"


def test_unlinked_and_unknown_importers(world) -> None:
    status, html = _page(world, "sup", PEER1)
    assert status == 200 and 'id="linked-records"' not in html
    assert _page(world, "sup", "99-0000000000")[0] == 404
    assert _page(world, "off", BIG)[0] == 200  # known, only its figures are in scope
