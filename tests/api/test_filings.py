"""Filers file by ABI records and by CSV/Parquet upload; refusals name records and rows."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.api_fakes import HIGH_VALUE
from tradeguard.domain.codes import Role
from tradeguard.ingest.abi_writer import to_abi
from tradeguard.ingest.wire import EntryCreate

TEXT = {"Content-Type": "text/plain"}


def _abi(*bodies: dict, action: str = "A") -> str:
    return to_abi([EntryCreate.model_validate(b) for b in bodies], action=action)


def test_abi_filing_replay_and_replacement(client, users, entry_json) -> None:
    filer = {**users.make(Role.FILER), **TEXT}
    text = _abi(entry_json(21, value=HIGH_VALUE), entry_json(22, n_lines=1))
    r = client.post("/api/v1/abi", content=text, headers=filer)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["created"] == 2 and body["replayed"] == 0
    assert body["entries"][1]["charges"]["duty_usd"] == 50.0
    assert [e["status"] for e in body["entries"]] == ["held", "released"]

    again = client.post("/api/v1/abi", content=text, headers=filer)
    assert again.status_code == 200 and again.json()["replayed"] == 2

    # other content under action A conflicts; under action R it replaces (held, not released)
    changed = _abi(entry_json(21, value=3000.0))
    assert client.post("/api/v1/abi", content=changed, headers=filer).status_code == 409
    changed_r = _abi(entry_json(21, value=3000.0), action="R")
    r = client.post("/api/v1/abi", content=changed_r, headers=filer)
    assert r.status_code == 201 and r.json()["entries"][0]["charges"]["duty_usd"] == 300.0
    number = r.json()["entries"][0]["entry_number"]
    got = client.get(f"/api/v1/entries/{number}", headers=users.make(Role.SUPERVISOR)).json()
    assert got["charges"]["duty_usd"] == 300.0 and got["status"] == "released"
    # a released entry can no longer be replaced
    again_r = _abi(entry_json(21, value=4000.0), action="R")
    assert client.post("/api/v1/abi", content=again_r, headers=filer).status_code == 409


def test_abi_issues_name_record_and_positions(client, users, entry_json) -> None:
    filer = {**users.make(Role.FILER), **TEXT}
    bad = entry_json(23)
    bad["lines"][1]["origin"] = "XX"
    r = client.post("/api/v1/abi", content=_abi(entry_json(24), bad), headers=filer)
    assert r.status_code == 422
    issues = r.json()["issues"]
    assert len(issues) == 1
    assert (
        issues[0]["field"].startswith("record 40 at line")
        and "positions 9-10" in issues[0]["field"]
    )
    # nothing was stored, not even the valid entry of the transmission
    assert client.get("/api/v1/entries", headers=filer).json()["items"] == []


def test_abi_garbage_is_a_clear_422(client, users) -> None:
    filer = {**users.make(Role.FILER), **TEXT}
    for text in ("", "hello", "10" + "x" * 78, "\xff\xfe"):
        r = client.post("/api/v1/abi", content=text.encode("latin-1"), headers=filer)
        assert r.status_code == 422, text
        assert r.json()["issues"], text


def _flat(entries: list[dict]) -> pa.Table:
    rows = []
    for e in entries:
        head = {k: v for k, v in e.items() if k != "lines"}
        for ln in e["lines"]:
            rows.append({**head, **ln})
    return pa.Table.from_pylist(rows)


def test_csv_and_parquet_batches(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    buf = io.BytesIO()
    pacsv.write_csv(_flat([entry_json(31), entry_json(32, n_lines=3)]), buf)
    r = client.post(
        "/api/v1/entries/batch",
        files={"file": ("entries.csv", buf.getvalue(), "text/csv")},
        headers=filer,
    )
    assert r.status_code == 201, r.text
    assert r.json()["created"] == 2
    assert [len(e["lines"]) for e in r.json()["entries"]] == [2, 3]
    assert r.json()["entries"][0]["entry_type"] == "01"

    buf = io.BytesIO()
    pq.write_table(_flat([entry_json(31), entry_json(33)]), buf)
    r = client.post(
        "/api/v1/entries/batch", files={"file": ("e.parquet", buf.getvalue())}, headers=filer
    )
    assert r.status_code == 201 and (r.json()["created"], r.json()["replayed"]) == (1, 1)


def test_batch_refusals(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    bad = entry_json(41)
    bad["lines"][0]["origin"] = "XX"
    buf = io.BytesIO()
    pacsv.write_csv(_flat([entry_json(40), bad]), buf)
    r = client.post(
        "/api/v1/entries/batch", files={"file": ("a.csv", buf.getvalue())}, headers=filer
    )
    assert r.status_code == 422
    assert [i["field"] for i in r.json()["issues"]] == ["entries[1].lines[0].origin"]

    r = client.post(
        "/api/v1/entries/batch",
        files={"file": ("a.csv", b"entry_number,colour\nx,red\n")},
        headers=filer,
    )
    assert r.status_code == 422
    assert "columns.colour" in {i["field"] for i in r.json()["issues"]}

    r = client.post("/api/v1/entries/batch", files={"file": ("a.csv", b"")}, headers=filer)
    assert r.status_code == 422


def test_upload_and_body_limits(app, client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    limit = app.state.settings.max_upload_bytes
    r = client.post(
        "/api/v1/entries/batch", files={"file": ("big.csv", b"x" * (limit + 10))}, headers=filer
    )
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    big = entry_json(50)
    big["lines"][0]["description"] = "y" * (app.state.settings.max_request_bytes + 1)
    r = client.post("/api/v1/entries", json=big, headers=filer)
    assert r.status_code == 413


def test_abi_route_never_crashes_on_garbage(client, users) -> None:
    """Random text and random 80-character records: a 422 listing issues, never a 5xx."""
    headers = {**users.make(Role.FILER), **TEXT}
    records = st.lists(
        st.text(alphabet="0123456789ABYZ R-.", min_size=80, max_size=80), max_size=6
    ).map("\n".join)

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=st.one_of(st.text(max_size=400), records))
    def run(text: str) -> None:
        r = client.post("/api/v1/abi", content=text.encode("utf-8"), headers=headers)
        assert r.status_code in (200, 201, 403, 409, 422), r.text
        if r.status_code == 422:
            assert r.json()["issues"]

    run()
