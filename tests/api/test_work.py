"""Officers work their queue (list -> detail -> finding -> release); every assessment view is
audited; supervisors read the audit log; capacity shapes the lanes."""

from __future__ import annotations

from tests.api.api_fakes import HIGH_VALUE
from tradeguard.domain.codes import Role


def _held(client, filer, entry_json, seq: int, value: float = HIGH_VALUE, **over) -> str:
    r = client.post("/api/v1/entries", json=entry_json(seq, value=value, **over), headers=filer)
    assert r.status_code == 201 and r.json()["status"] == "held", r.text
    return r.json()["entry_number"]


def test_officer_works_the_exam_queue(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    officer = users.make(Role.OFFICER, ports=["2704"])
    low = _held(client, filer, entry_json, 61, value=600_000.0)
    high = _held(client, filer, entry_json, 62, value=950_000.0)

    queue = client.get("/api/v1/queues/exam", headers=officer).json()
    assert [i["entry_number"] for i in queue["items"]] == [high, low]  # highest risk first
    assert queue["items"][0]["reason"] and queue["items"][0]["lane"] == "exam"
    assert (
        client.get("/api/v1/queues/exam?min_score=0.9", headers=officer).json()["items"][0][
            "entry_number"
        ]
        == high
    )

    detail = client.get(f"/api/v1/entries/{high}/assessment", headers=officer)
    assert detail.status_code == 200
    d = detail.json()
    assert d["decision"]["lane"] == "exam" and d["lines"][0]["score"] > 0.9
    assert d["lines"][0]["reasons"][0]["id"] == "high_value"
    assert [h["to_status"] for h in d["history"]] == ["filed", "assessed", "held"]

    finding = client.post(
        f"/api/v1/entries/{high}/findings",
        json={
            "discrepancy": True,
            "violation": "undervaluation",
            "line_number": 1,
            "revenue_found_usd": 1234.5,
            "narrative": "invoice shows twice the value",
        },
        headers=officer,
    )
    assert finding.status_code == 201, finding.text
    f = finding.json()
    assert (f["kind"], f["pti"], f["selected_by"], f["recorded_by"]) == (
        "exam",
        "revenue",
        "targeted",
        "officer2",
    )

    r = client.post(
        f"/api/v1/entries/{high}/release", json={"reason": "duty paid"}, headers=officer
    )
    assert r.status_code == 200 and r.json()["status"] == "released"
    # released: a second release or a seizure is a conflict of states, not a crash
    assert client.post(f"/api/v1/entries/{high}/release", headers=officer).status_code == 409
    goods = {"goods_description": "fake watches", "value_usd": 4200, "violation": "counterfeit"}
    r = client.post(f"/api/v1/entries/{high}/seizures", json=goods, headers=officer)
    assert r.status_code == 409
    # one seizure path: the status change and the goods and value are recorded together
    r = client.post(f"/api/v1/entries/{low}/seizures", json=goods, headers=officer)
    assert r.status_code == 201 and r.json()["value_usd"] == 4200.0
    assert client.get(f"/api/v1/entries/{low}", headers=officer).json()["status"] == "seized"
    # the bare status-only route is retired
    assert client.post(f"/api/v1/entries/{low}/seize", headers=officer).status_code in (404, 405)

    queue = client.get("/api/v1/queues/exam", headers=officer).json()
    assert queue["items"] == []
    # the filer sees the outcome, never the why
    seen = client.get(f"/api/v1/entries/{high}", headers=filer).json()
    assert seen["status"] == "released" and seen["released"]


def test_officer_bound_to_ports(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    elsewhere = users.make(Role.OFFICER, ports=["1001"])
    number = _held(client, filer, entry_json, 63)
    assert client.get("/api/v1/queues/exam", headers=elsewhere).json()["items"] == []
    assert client.get(f"/api/v1/entries/{number}/assessment", headers=elsewhere).status_code == 404
    assert client.post(f"/api/v1/entries/{number}/release", headers=elsewhere).status_code == 404
    # a supervisor sees every port
    sup = users.make(Role.SUPERVISOR)
    assert len(client.get("/api/v1/queues/exam", headers=sup).json()["items"]) == 1


def test_assessment_views_are_audited(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    targeter = users.make(Role.TARGETER)
    number = _held(client, filer, entry_json, 64)
    for _ in range(2):
        assert (
            client.get(f"/api/v1/entries/{number}/assessment", headers=targeter).status_code == 200
        )
    sup = users.make(Role.SUPERVISOR)
    log = client.get(
        f"/api/v1/audit?resource_type=assessment&resource_id={number}", headers=sup
    ).json()["items"]
    assert [(r["action"], r["username"]) for r in log] == [("read", "targeter2")] * 2
    # the log is for supervisors and admins only
    assert client.get("/api/v1/audit", headers=targeter).status_code == 403


def test_capacity_caps_exams_per_port_and_day(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    sup = users.make(Role.SUPERVISOR)
    r = client.put(
        "/api/v1/capacity/2704", json={"exams_per_day": 1, "reviews_per_day": 0}, headers=sup
    )
    assert r.status_code == 200 and r.json()["updated_by"] == "supervisor2"
    lanes = []
    for seq in (71, 72, 73):
        client.post("/api/v1/entries", json=entry_json(seq, value=HIGH_VALUE), headers=filer)
    officer = users.make(Role.OFFICER)
    lanes = client.get("/api/v1/queues/exam", headers=officer).json()["items"]
    assert len(lanes) == 1  # one exam slot a day at 2704; the others were not held for exam
    assert client.get("/api/v1/capacity", headers=sup).json()["items"][0]["exams_per_day"] == 1


def test_audit_queue_and_specialist_review(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    sup = users.make(Role.SUPERVISOR)
    client.put(
        "/api/v1/capacity/2704", json={"exams_per_day": 0, "reviews_per_day": 1}, headers=sup
    )
    a = _held(client, filer, entry_json, 81)
    specialist = users.make(Role.IMPORT_SPECIALIST)
    review = client.get("/api/v1/queues/review", headers=specialist).json()["items"]
    assert [i["entry_number"] for i in review] == [a]
    r = client.post(
        f"/api/v1/entries/{a}/findings", json={"discrepancy": False}, headers=specialist
    )
    assert r.status_code == 201 and r.json()["kind"] == "document_review"
    # no slot left: a high score is released and sent to post-release audit
    b = client.post("/api/v1/entries", json=entry_json(82, value=HIGH_VALUE), headers=filer).json()
    assert b["status"] == "released"
    auditor = users.make(Role.AUDITOR)
    audit_q = client.get("/api/v1/queues/audit", headers=auditor).json()["items"]
    assert [i["entry_number"] for i in audit_q] == [b["entry_number"]]
    client.post(
        f"/api/v1/entries/{b['entry_number']}/findings",
        json={"discrepancy": False},
        headers=auditor,
    )
    assert client.get("/api/v1/queues/audit", headers=auditor).json()["items"] == []


def test_finding_validation(client, users, entry_json) -> None:
    filer = users.make(Role.FILER)
    officer = users.make(Role.OFFICER)
    number = _held(client, filer, entry_json, 91)
    r = client.post(
        f"/api/v1/entries/{number}/findings",
        json={"discrepancy": False, "violation": "counterfeit"},
        headers=officer,
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/entries/{number}/findings",
        json={"discrepancy": True, "violation": "counterfeit", "pti": "revenue"},
        headers=officer,
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/entries/{number}/findings",
        json={"discrepancy": True, "line_number": 9},
        headers=officer,
    )
    assert r.status_code == 409  # no line 9 on this entry
