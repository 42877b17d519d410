"""``tradeguard rules ...``: check and list targeting rule directories, show the fields.

Registered in ``cli.py`` as the ``rules`` sub-command group.  Heavy imports (polars, the rule
compiler) happen inside the commands so ``tradeguard --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

rules_app = typer.Typer(
    help="Targeting rules as data: validate rule directories, list rules, show fields.",
    no_args_is_help=True,
)

DirArg = Annotated[
    Path,
    typer.Argument(help="A rule directory (all *.yaml inside, recursively) or one YAML file."),
]


def _console(width: int) -> Any:
    """A rich console; when piped (not a terminal) wide enough that rows stay on one line."""
    import sys

    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else width)


@rules_app.command("check")
def check(
    directory: DirArg,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print problems only.")] = False,
) -> None:
    """Validate every rule and list; print each problem as file:rule:position and exit 1 on any.

    Checks keys, types, dates, priority trade issues, duplicate ids, and every condition
    (syntax, unknown fields and lists with suggestions, type mismatches) against the declared
    field catalogue.
    """
    from tradeguard.errors import ValidationFailed
    from tradeguard.risk.rules.loader import load_rules
    from tradeguard.risk.rules.model import RuleIssue

    try:
        rules = load_rules(directory)
    except ValidationFailed as exc:
        for issue in exc.issues:
            where = issue.location() if isinstance(issue, RuleIssue) else issue.field
            typer.echo(f"{where}: {issue.message}", err=True)
        typer.echo(f"{len(exc.issues)} problem(s) in {directory}", err=True)
        raise typer.Exit(1) from None
    if not quiet:
        per_pti = ", ".join(f"{p.value} {len(rs)}" for p, rs in rules.by_pti().items())
        typer.echo(f"{directory}: {len(rules)} rules, {len(rules.lists)} lists, OK ({per_pti})")


@rules_app.command("list")
def list_rules(
    directory: DirArg,
    pti: Annotated[
        str | None, typer.Option(help="Only rules of this priority trade issue, e.g. adcvd.")
    ] = None,
    conditions: Annotated[
        bool, typer.Option("--conditions", help="Show each rule's condition as well.")
    ] = False,
) -> None:
    """Show the rules of a directory in a table (id, issue, weight, mandatory, dates, owner)."""
    from rich.table import Table

    from tradeguard.errors import ValidationFailed
    from tradeguard.risk.rules.loader import load_rules

    try:
        rules = load_rules(directory)
    except ValidationFailed as exc:
        typer.echo(f"{exc}\nrun `tradeguard rules check {directory}` for details", err=True)
        raise typer.Exit(1) from None
    table = Table(title=f"{len(rules)} rules in {directory}")
    for col in ("id", "pti", "weight", "mandatory", "effective", "owner", "name"):
        table.add_column(col, justify="right" if col == "weight" else "left")
    if conditions:
        table.add_column("condition")
    for r in rules:
        if pti and r.pti.value != pti:
            continue
        start = r.effective_from.isoformat() if r.effective_from else "..."
        end = r.effective_to.isoformat() if r.effective_to else "..."
        row = [
            r.id,
            r.pti.value,
            f"{r.weight:g}",
            "yes" if r.mandatory else "",
            f"{start} to {end}",
            r.owner,
            r.name,
        ]
        if conditions:
            row.append(r.condition)
        table.add_row(*row)
    _console(200 if conditions else 150).print(table)


@rules_app.command("fields")
def fields() -> None:
    """Show the fields conditions may use, with their types and meaning."""
    from rich.table import Table

    from tradeguard.risk.rules.fields import FieldCatalogue

    table = Table(title="Fields available to rule conditions")
    for col in ("field", "type", "source", "meaning"):
        table.add_column(col)
    for spec in FieldCatalogue.default().values():
        table.add_row(spec.name, spec.type.value, spec.source, spec.description)
    _console(150).print(table)
