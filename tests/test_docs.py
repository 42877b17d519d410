"""Documentation keeps up with the code: every setting, command, API route and portal page is
in README.md (routes in its HTTP API section, pages in its Portal section)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from tradeguard.cli import app
from tradeguard.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [
        f"TRADEGUARD_{name.upper()}"
        for name in Settings.model_fields
        if f"TRADEGUARD_{name.upper()}" not in README
    ]
    assert not missing, f"settings missing from README.md: {missing}"


def _command_paths() -> list[str]:
    group = typer.main.get_command(app)
    paths: list[str] = []
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(cmd, "commands", None)
        if sub:
            paths.extend(f"{name} {s}" for s in sub)
        else:
            paths.append(name)
    return paths


def test_every_command_is_documented() -> None:
    missing = [p for p in _command_paths() if f"tradeguard {p}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_shows_the_two_commands() -> None:
    assert "make demo" in README and "make test" in README


def _section(title: str) -> str:
    """The text of README.md's ``## title`` section."""
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end != -1 else None]


def _norm(path: str) -> str:
    """A path with its query dropped and every ``{parameter}`` alike (``{n}`` = ``{id}``)."""
    return re.sub(r"\{[^}]*\}", "{}", path.split("?")[0])


def _documented(text: str) -> set[str]:
    """Every path written in backticks in ``text``."""
    return {
        _norm(path)
        for code in re.findall(r"`([^`]+)`", text)
        for path in re.findall(r"/[A-Za-z0-9_.{}/-]*", code)
    }


def _app(tmp_path: Path) -> Any:
    from tradeguard.api.app import create_app

    return create_app(Settings(sqlite_path=tmp_path / "docs.sqlite"), migrate=False)


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    """Each path of the API's OpenAPI document appears in the HTTP API section."""
    documented = _documented(_section("HTTP API"))
    paths = _app(tmp_path).state.api.openapi()["paths"]
    assert len(paths) > 20
    missing = [p for p in paths if _norm(p) not in documented]
    assert not missing, f"API routes missing from README.md's HTTP API section: {missing}"


def test_every_portal_page_is_documented(tmp_path: Path) -> None:
    """Each portal page (every GET route of the portal) appears in the Portal section."""
    from fastapi.routing import APIRoute, iter_route_contexts

    documented = _documented(_section("Portal"))
    pages = [
        ctx.path
        for ctx in iter_route_contexts(_app(tmp_path).routes)
        if isinstance(ctx.route, APIRoute) and "GET" in (ctx.methods or ())
    ]
    assert "/importers/{importer_id}" in pages
    missing = [p for p in pages if _norm(p) not in documented]
    assert not missing, f"portal pages missing from README.md's Portal section: {missing}"
