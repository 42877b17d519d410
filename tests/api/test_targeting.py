"""Targeters version and retire rules (validated on save), register, compare and promote
models, and record allegations against importers, manufacturers and goods."""

from __future__ import annotations

from tradeguard.domain.codes import Role

RULE = {
    "id": "REV-900",
    "name": "Cheap T-shirts",
    "owner": "revenue-targeting",
    "pti": "revenue",
    "weight": 20,
    "condition": 'hts startswith "6109" and origin in ["VN", "BD"]',
}


def test_rule_lifecycle(client, users) -> None:
    t = users.make(Role.TARGETER)
    r = client.post("/api/v1/rules", json=RULE, headers=t)
    assert r.status_code == 201, r.text
    assert (r.json()["version"], r.json()["status"]) == (1, "active")
    assert client.post("/api/v1/rules", json=RULE, headers=t).status_code == 409

    r = client.put("/api/v1/rules/REV-900", json={**RULE, "weight": 30}, headers=t)
    assert r.status_code == 200 and r.json()["version"] == 2
    assert r.json()["rule"]["weight"] == 30

    versions = client.get("/api/v1/rules/REV-900", headers=t).json()
    assert [v["version"] for v in versions] == [2, 1]
    r = client.post("/api/v1/rules/REV-900/retire", headers=t)
    assert r.status_code == 200 and r.json()["status"] == "retired"
    assert client.post("/api/v1/rules/REV-900/retire", headers=t).status_code == 409
    listed = client.get("/api/v1/rules?status=retired", headers=t).json()["items"]
    assert [x["id"] for x in listed] == ["REV-900"]
    assert client.get("/api/v1/rules/NOPE", headers=t).status_code == 404


def test_rules_are_validated_on_save(client, users) -> None:
    t = users.make(Role.TARGETER)
    bad = {
        **RULE,
        "id": "BAD-1",
        "weight": "heavy",
        "pti": "weather",
        "condition": "hts startswith and colour = 1",
    }
    r = client.post("/api/v1/rules", json=bad, headers=t)
    assert r.status_code == 422
    fields = " ".join(i["field"] for i in r.json()["issues"])
    assert "weight" in fields and "pti" in fields and "condition" in fields
    r = client.put("/api/v1/rules/REV-901", json=RULE, headers=t)
    assert r.status_code in (404, 422)


def test_models_compare_and_promote(client, users) -> None:
    t = users.make(Role.TARGETER)
    for mid, auc in (("m1", 0.71), ("m2", 0.78)):
        r = client.post(
            "/api/v1/models", json={"id": mid, "metrics": {"auc": auc, "p_at_1": 0.3}}, headers=t
        )
        assert r.status_code == 201
    cmp = client.get("/api/v1/models/compare?a=m1&b=m2", headers=t).json()
    assert round(cmp["difference"]["auc"], 2) == 0.07
    assert client.post("/api/v1/models/m1/promote", headers=t).json()["promoted"]
    assert client.post("/api/v1/models/m2/promote", headers=t).json()["promoted"]
    listed = {
        m["id"]: m["promoted"] for m in client.get("/api/v1/models", headers=t).json()["items"]
    }
    assert listed == {"m1": False, "m2": True}
    assert client.post("/api/v1/models/m9/promote", headers=t).status_code == 404


def test_allegations_attach_to_entities(client, users) -> None:
    t = users.make(Role.TARGETER)
    for target_type, target_id in (("importer", "12-345678900"), ("hts", "6109.10.0012")):
        r = client.post(
            "/api/v1/allegations",
            json={
                "source": "trade",
                "text": "sells below cost",
                "target_type": target_type,
                "target_id": target_id,
            },
            headers=t,
        )
        assert r.status_code == 201
    got = client.get("/api/v1/allegations?target_type=hts&target_id=6109100012", headers=t)
    assert [a["target_id"] for a in got.json()["items"]] == ["6109100012"]
    p = users.make(Role.PENALTIES_OFFICER)
    assert len(client.get("/api/v1/allegations", headers=p).json()["items"]) == 2
