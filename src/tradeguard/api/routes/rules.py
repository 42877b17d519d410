"""Targeting rules: create, edit (a new version), retire, read; validated on every save.

A rule is stored as the JSON of its mapping, versioned: an edit writes version n+1 and keeps
the old versions, so the rule that selected an entry months ago can still be read.  Saving
runs ``risk.rules.parse_rule`` with the lists a rule may use (the starter lists and the watch
lists, ``api.targeting.rule_lists``), and refuses the rule with every problem it finds (422).
Stored rules overlay the model's rules in the targeting in force (``api.targeting``): a saved
rule selects from the next filing on, a retired one stops.  Only targeters write rules;
supervisors may read them.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel
from sqlalchemy import Connection, func, insert, select, update

from tradeguard.api import audit
from tradeguard.api.deps import (
    Database,
    Page,
    Principal,
    Timestamp,
    allow,
    get_db,
    get_page,
    utcnow,
)
from tradeguard.api.problems import responses
from tradeguard.domain.codes import Role
from tradeguard.errors import Conflict, NotFound, ValidationFailed
from tradeguard.storage.tables_api import rules

router = APIRouter(prefix="/rules", tags=["targeting"])
WRITERS = allow(Role.TARGETER)
READERS = allow(Role.TARGETER, Role.SUPERVISOR)
RuleId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
RuleBody = Annotated[
    dict[str, Any],
    Body(
        description="The rule: id, name, owner, pti, weight, condition, and optionally "
        "mandatory, effective_from, effective_to, note",
        examples=[
            {
                "id": "REV-900",
                "name": "Cheap T-shirts",
                "owner": "revenue",
                "pti": "revenue",
                "weight": 20,
                "condition": 'hts startswith "6109" and unit_value_ratio < 0.5',
            }
        ],
    ),
]


class RuleOut(BaseModel):
    id: str
    version: int
    status: Literal["active", "retired"]
    author: str
    at: Timestamp
    rule: dict[str, Any]


class RulePage(BaseModel):
    items: list[RuleOut]
    limit: int
    offset: int
    next_offset: int | None


def validate_rule(raw: dict[str, Any], version: int, lists: Any) -> dict[str, Any]:
    """The rule as stored (normalised by ``parse_rule``) or ValidationFailed with every issue."""
    from tradeguard.risk.rules import parse_rule

    rule = parse_rule({**raw, "version": version}, lists=lists)
    return rule.to_dict()


def _out(row: Any) -> RuleOut:
    return RuleOut(
        id=row.id,
        version=row.version,
        status=row.status,
        author=row.author,
        at=row.at,
        rule=json.loads(row.body),
    )


def _latest(conn: Connection, rule_id: str) -> Any:
    return conn.execute(
        select(rules).where(rules.c.id == rule_id).order_by(rules.c.version.desc()).limit(1)
    ).first()


def _save(conn: Connection, principal: Principal, raw: dict[str, Any], version: int) -> RuleOut:
    from tradeguard.api.targeting import rule_lists

    body = validate_rule(raw, version, rule_lists(conn))
    now = utcnow()
    conn.execute(
        insert(rules).values(
            id=body["id"],
            version=version,
            body=json.dumps(body),
            format="json",
            status="active",
            author=principal.username,
            at=now,
        )
    )
    audit.record(
        conn,
        principal,
        "create" if version == 1 else "update",
        "rule",
        body["id"],
        {"version": version},
    )
    return _out(_latest(conn, body["id"]))


@router.post("", status_code=201, response_model=RuleOut, responses=responses(409, 413))
def create_rule(
    body: RuleBody,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> RuleOut:
    """Create a rule (version 1); 409 if the id is taken."""
    rid = body.get("id")
    with db.begin() as conn:
        if isinstance(rid, str) and _latest(conn, rid) is not None:
            raise Conflict(f"rule {rid} exists; edit it with PUT /rules/{rid}")
        return _save(conn, principal, body, 1)


@router.put("/{rule_id}", response_model=RuleOut, responses=responses(404, 409, 413))
def edit_rule(
    rule_id: RuleId,
    body: RuleBody,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> RuleOut:
    """Save a new version of a rule (the old versions stay readable)."""
    if body.get("id", rule_id) != rule_id:
        raise ValidationFailed("the path and the body name different rules")
    with db.begin() as conn:
        latest = _latest(conn, rule_id)
        if latest is None:
            raise NotFound(f"no rule {rule_id}")
        return _save(conn, principal, {**body, "id": rule_id}, latest.version + 1)


@router.post("/{rule_id}/retire", response_model=RuleOut, responses=responses(404, 409))
def retire_rule(
    rule_id: RuleId,
    principal: Annotated[Principal, Depends(WRITERS)],
    db: Annotated[Database, Depends(get_db)],
) -> RuleOut:
    """Retire a rule: its latest version stops selecting entries."""
    with db.begin() as conn:
        latest = _latest(conn, rule_id)
        if latest is None:
            raise NotFound(f"no rule {rule_id}")
        if latest.status == "retired":
            raise Conflict(f"rule {rule_id} is already retired")
        conn.execute(
            update(rules)
            .where(rules.c.id == rule_id, rules.c.version == latest.version)
            .values(status="retired")
        )
        audit.record(conn, principal, "retire", "rule", rule_id, {"version": latest.version})
        return _out(_latest(conn, rule_id))


@router.get("", response_model=RulePage, responses=responses())
def list_rules(
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
    page: Annotated[Page, Depends(get_page)],
    status: Annotated[Literal["active", "retired"] | None, Query()] = None,
) -> dict[str, object]:
    """The latest version of every rule, by id."""
    newest = (
        select(rules.c.id, func.max(rules.c.version).label("v")).group_by(rules.c.id).subquery()
    )
    q = select(rules).join(newest, (rules.c.id == newest.c.id) & (rules.c.version == newest.c.v))
    if status:
        q = q.where(rules.c.status == status)
    with db.connect() as conn:
        rows = conn.execute(q.order_by(rules.c.id).limit(page.limit + 1).offset(page.offset)).all()
    return page.wrap([_out(r) for r in rows])


@router.get("/{rule_id}", response_model=list[RuleOut], responses=responses(404))
def rule_versions(
    rule_id: RuleId,
    principal: Annotated[Principal, Depends(READERS)],
    db: Annotated[Database, Depends(get_db)],
) -> list[RuleOut]:
    """Every version of one rule, newest first."""
    with db.connect() as conn:
        rows = conn.execute(
            select(rules).where(rules.c.id == rule_id).order_by(rules.c.version.desc())
        ).all()
    if not rows:
        raise NotFound(f"no rule {rule_id}")
    return [_out(r) for r in rows]
