"""Watch lists filled from leads reach the rules: a rule ``importer_id in list port_shoppers``
selects every record of the watched entity in a scoring run given those lists, and nothing
else (on SQLite, and on PostgreSQL when configured)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import polars as pl
from sqlalchemy import create_engine, insert

from tradeguard.decisions.batch import rules_only_bundle
from tradeguard.entities.leads import watch_lead, watch_lists
from tradeguard.risk import score_batch
from tradeguard.risk.rules import build_ruleset
from tradeguard.storage.tables_entities import entity_links, leads

SHOPPER, RENAMED, HONEST = "12-3456789AA", "98-7654321BB", "55-5555555CC"


def test_a_watch_list_rule_selects_the_watched_entity_in_a_scoring_run(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    with engine.begin() as conn:
        conn.execute(
            insert(entity_links),
            [
                {"party_id": p, "role": "importer", "entity_id": SHOPPER, "match_weight": 8.0,
                 "match_probability": 0.99, "resolved_at": datetime(2026, 7, 1)}
                for p in (SHOPPER, RENAMED)
            ],
        )  # fmt: skip
        lead_id = conn.execute(
            insert(leads).values(
                entity_id=SHOPPER,
                role="importer",
                pattern="port_shopping",
                strength=0.9,
                summary="2 held entries re-presented at another port",
                evidence=json.dumps([{"held_entry": "X", "entry": "Y"}]),
                status="open",
                found_at=datetime(2026, 7, 2),
            )  # fmt: skip
        ).inserted_primary_key[0]
        added = watch_lead(conn, int(lead_id), "targeter1", "port_shoppers")
        assert sorted(added) == sorted([SHOPPER, RENAMED])
    with engine.connect() as conn:
        lists = watch_lists(conn)
    engine.dispose()

    rule = {"id": "WATCH-1", "name": "watched port shoppers", "owner": "targeting",
            "pti": "revenue", "weight": 60, "condition": "importer_id in list port_shoppers"}  # fmt: skip
    bundle = replace(rules_only_bundle(), rules=build_ruleset([rule], lists=lists))
    frame = pl.DataFrame(
        {
            "entry_number": ["E-1", "E-2", "E-3"],
            "line_number": [1, 1, 1],
            "importer_id": [RENAMED, HONEST, SHOPPER],
            "hts": ["9403609081"] * 3,
            "origin": ["CN"] * 3,
            "value_usd": [5_000.0] * 3,
            "quantity1": [10.0] * 3,
            "port_code": ["2704"] * 3,
            "mode": ["vessel"] * 3,
            "entry_type": ["01"] * 3,
            "filed_at": [datetime(2026, 7, 3, 10)] * 3,
        }
    )
    scored = score_batch(frame.to_arrow(), bundle, explain=True)
    points = dict(zip(scored.column("entry_number").to_pylist(),
                      scored.column("rule_points").to_pylist(), strict=True))  # fmt: skip
    assert points == {"E-1": 60.0, "E-2": 0.0, "E-3": 60.0}
    reasons = dict(zip(scored.column("entry_number").to_pylist(),
                       scored.column("reasons").to_pylist(), strict=True))  # fmt: skip
    assert "WATCH-1" in reasons["E-1"] and "WATCH-1" not in (reasons["E-2"] or "")
