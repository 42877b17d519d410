"""The entry page's enforcement forms: seize the goods, refer to audit or penalty, liquidate.
(Declining a referral is ``web.pages_cases``.)

Each form checks its fields first (every problem shown next to its field, nothing written),
then calls the API's own route function (``api.routes.enforcement.seize_goods``,
``api.routes.referrals.refer_entry``, ``api.routes.enforcement.liquidate_entry``), so the
portal and the API share one path: the seizure records goods, value and basis together with
the status change, and every change is audited.  Field errors are keyed ``seize_*``,
``refer_*`` and ``liq_*`` so each form on the page shows only its own.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from tradeguard.api.deps import Principal
from tradeguard.api.routes import enforcement as enforcement_routes
from tradeguard.api.routes import referrals as referral_routes
from tradeguard.domain.codes import Violation
from tradeguard.errors import Conflict, ValidationFailed
from tradeguard.web.pages_work import _back, entry_page
from tradeguard.web.session import page_for

router = APIRouter(include_in_schema=False)
SEIZERS = page_for(*enforcement_routes.SEIZERS.roles)
REFERRERS = page_for(*referral_routes.REFERRERS.roles)
LIQUIDATORS = page_for(*enforcement_routes.LIQUIDATORS.roles)
VIOLATIONS = {v.value for v in Violation}


def dollars(text: str, *, signed: bool = False) -> Decimal | None:
    """A dollar amount typed in a form (``1,250.50``, ``$300``), or ``None`` if it is not one;
    negative only when ``signed``."""
    cleaned = text.strip().replace(",", "").replace("$", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or abs(value) > Decimal("1e11") or (value < 0 and not signed):
        return None
    return value.quantize(Decimal("0.01"))


def issues_to_fields(exc: ValidationFailed | Conflict, prefix: str) -> dict[str, str]:
    """An API refusal as field errors of one form (``prefix`` + field; ``prefix`` + form)."""
    errors: dict[str, str] = {}
    for issue in exc.issues or []:
        errors[prefix + issue.field.split(".")[-1]] = issue.message[:1].upper() + issue.message[1:]
    if not errors:
        errors[prefix + "form"] = str(exc).splitlines()[0]
    return errors


def _again(
    request: Request,
    principal: Principal,
    entry_number: str,
    errors: dict[str, str],
    form: dict[str, Any],
    status_code: int = 422,
) -> Response:
    return entry_page(
        request, principal, entry_number, errors=errors, form=form, status_code=status_code
    )


@router.post("/entries/{entry_number}/seize")
def seize(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(SEIZERS)],
    goods_description: Annotated[str, Form(max_length=2000)] = "",
    value_usd: Annotated[str, Form(max_length=40)] = "",
    violation: Annotated[str, Form(max_length=40)] = "",
    seized_on: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Seize the goods: description, value and basis are recorded with the status change."""
    form = {"seize_goods": goods_description, "seize_value": value_usd,
            "seize_violation": violation, "seize_date": seized_on,
            "seize_reason": reason}  # fmt: skip
    errors: dict[str, str] = {}
    if not goods_description.strip():
        errors["seize_goods_description"] = "Describe the goods seized."
    value = dollars(value_usd)
    if value is None:
        errors["seize_value_usd"] = "Enter the domestic value in dollars, 0 or more, e.g. 12500."
    if violation not in VIOLATIONS:
        errors["seize_violation"] = "Choose the violation the seizure enforces."
    day: date | None = None
    if seized_on.strip():
        try:
            day = date.fromisoformat(seized_on.strip())
        except ValueError:
            errors["seize_seized_on"] = "Enter the date as YYYY-MM-DD, or leave it for today."
    if not errors:
        try:
            body = enforcement_routes.SeizureCreate(
                goods_description=goods_description.strip(),
                value_usd=float(value or 0),
                violation=Violation(violation),
                seized_on=day,
                reason=reason.strip() or None,
            )
            enforcement_routes.seize_goods(
                entry_number, body, principal, request.app.state.api.state.db
            )
        except ValidationError as exc:
            for err in exc.errors():
                errors["seize_" + str(err["loc"][0] if err["loc"] else "form")] = err["msg"]
        except ValidationFailed as exc:
            errors.update(issues_to_fields(exc, "seize_"))
        except Conflict as exc:
            return _again(request, principal, entry_number, {"seize_form": str(exc)}, form, 409)
    if errors:
        return _again(request, principal, entry_number, errors, form)
    return _back(entry_number, "Goods seized; the seizure is recorded.")


@router.post("/entries/{entry_number}/refer")
def refer(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(REFERRERS)],
    kind: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Refer the entry to audit (the audit queue) or to penalty (the penalties officer's list)."""
    form = {"refer_kind": kind, "refer_reason": reason}
    errors = {}
    if kind not in ("audit", "penalty"):
        errors["refer_kind"] = "Choose audit or penalty."
    if not reason.strip():
        errors["refer_reason"] = "Say why you refer the entry."
    if not errors:
        body = referral_routes.ReferralCreate(kind=kind, reason=reason.strip())  # type: ignore[arg-type]
        try:
            referral_routes.refer_entry(
                entry_number, body, principal, request.app.state.api.state.db
            )
        except Conflict as exc:
            return _again(request, principal, entry_number, {"refer_form": str(exc)}, form, 409)
        where = "the audit queue" if kind == "audit" else "the penalties officer's list"
        return _back(entry_number, f"Referred to {kind}: the entry is on {where}.")
    return _again(request, principal, entry_number, errors, form)


@router.post("/entries/{entry_number}/liquidate")
def liquidate(
    request: Request,
    entry_number: str,
    principal: Annotated[Principal, Depends(LIQUIDATORS)],
    adjustment_usd: Annotated[str, Form(max_length=40)] = "0",
    violation: Annotated[str, Form(max_length=40)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Liquidate a released entry now, with an optional adjustment beyond the findings."""
    form = {"liq_adjustment": adjustment_usd, "liq_violation": violation, "liq_note": note}
    errors: dict[str, str] = {}
    adjustment = dollars(adjustment_usd or "0", signed=True)
    if adjustment is None:
        errors["liq_adjustment_usd"] = (
            "Enter an amount in dollars (negative for a refund), e.g. 250."
        )
    if violation and violation not in VIOLATIONS:
        errors["liq_violation"] = "Choose a violation from the list."
    if not errors:
        assert adjustment is not None
        body = enforcement_routes.LiquidationCreate(
            adjustment_usd=float(adjustment),
            violation=Violation(violation) if violation else None,
            note=note.strip() or None,
        )
        api = request.app.state.api
        try:
            done = enforcement_routes.liquidate_entry(
                entry_number, principal, api.state.db, api.state.pipeline, body
            )
        except ValidationFailed as exc:
            errors.update(issues_to_fields(exc, "liq_"))
        except Conflict as exc:
            return _again(request, principal, entry_number, {"liq_form": str(exc)}, form, 409)
        else:
            return _back(entry_number, f"Liquidated: final duties ${done.final_duties_usd:,.2f}.")
    return _again(request, principal, entry_number, errors, form)
