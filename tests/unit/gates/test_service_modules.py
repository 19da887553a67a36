"""``service.py`` means one thing everywhere: a domain's persistence-facing service.

A reader who opens ``<domain>/service.py`` expects the functions that take a database session
and keep that domain's records. A module with another job (routing's translation of the center
file, WFM's files) carries a name that says so; this gate fails on a ``service.py`` that never
touches a session, and is shown failing on a planted one.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src" / "hotline"


def uses_a_session(path: Path) -> bool:
    """Whether a module imports SQLAlchemy's ORM session (the mark of a persistence service)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "sqlalchemy.orm"
        and any(alias.name == "Session" for alias in node.names)
        for node in ast.walk(tree)
    )


def services_without_persistence(root: Path) -> list[str]:
    """Every ``service.py`` under ``root`` that does not work on a database session."""
    return sorted(
        str(path.relative_to(root)) for path in root.rglob("service.py") if not uses_a_session(path)
    )


def test_every_service_module_is_persistence_facing() -> None:
    assert list(SRC.rglob("service.py")), "no service modules found: is SRC right?"
    assert services_without_persistence(SRC) == []


def test_the_gate_fails_on_a_service_module_with_another_job(tmp_path: Path) -> None:
    (tmp_path / "routing").mkdir()
    (tmp_path / "routing" / "service.py").write_text(
        "from hotline.config.center import CenterConfig\n"
        "def routing_config_from_center(center: CenterConfig) -> None: ...\n"
    )
    (tmp_path / "tickets").mkdir()
    (tmp_path / "tickets" / "service.py").write_text(
        "from sqlalchemy.orm import Session\ndef create_ticket(session: Session) -> None: ...\n"
    )
    assert services_without_persistence(tmp_path) == ["routing/service.py"]
