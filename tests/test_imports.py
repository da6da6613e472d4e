"""Which of our modules may import what, read from the source with ``ast`` (so an import
inside a function, ``from twilio.rest import Client`` or ``importlib.import_module("twilio")``
counts, and the word in a comment or a string does not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The project's own code: the four apps (tests/ and bench/ are not in them).
APPS = ["portal", "peer_support", "content", "notifications"]
TWILIO_MODULE = "notifications/sms.py"


def python_files() -> list[Path]:
    files = sorted(path for app in APPS for path in (ROOT / app).rglob("*.py"))
    return [path for path in files if ".venv" not in path.parts]


def _top(name: str | None) -> str:
    return (name or "").split(".")[0]


def modules_imported(source: str) -> set[str]:
    """Top-level names of every module ``source`` imports, statically or by a constant name
    given to ``importlib.import_module`` or ``__import__``. Relative imports are our own."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(_top(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.add(_top(node.module))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0]
            if (
                name in {"import_module", "__import__"}
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.add(_top(first.value))
    return found - {""}


@pytest.mark.parametrize(
    ("source", "imports_twilio"),
    [
        ("import twilio", True),
        ("import twilio.rest", True),
        ("import os, twilio.rest as rest", True),
        ("from twilio.rest import Client", True),
        ("from twilio import rest", True),
        ("def f():\n    from twilio.base.exceptions import TwilioRestException", True),
        ("try:\n    import twilio\nexcept ImportError:\n    twilio = None", True),
        ("import importlib\nimportlib.import_module('twilio.rest')", True),
        ("from importlib import import_module\nimport_module('twilio')", True),
        ("__import__('twilio')", True),
        ("# import twilio\nx = 'from twilio import rest'", False),
        ("from . import twilio", False),
        ("from .twilio import send", False),
        ("import twilio_double", False),
        ("from notifications import sms", False),
    ],
)
def test_the_import_reader(source, imports_twilio):
    assert ("twilio" in modules_imported(source)) is imports_twilio


def test_only_notifications_sms_imports_twilio():
    files = python_files()
    assert len(files) > 50, "the apps' code was found"
    importers = sorted(
        str(path.relative_to(ROOT))
        for path in files
        if "twilio" in modules_imported(path.read_text(encoding="utf-8"))
    )
    assert importers == [TWILIO_MODULE]
