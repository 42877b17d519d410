"""Documentation keeps up with the code: every setting and every command is in README.md."""

from __future__ import annotations

from pathlib import Path

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
