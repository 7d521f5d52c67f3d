"""Module boundaries: modules import each other's public names only (a ``_private`` name is
private to its module), the import contracts name modules that exist, and every app package is
installed.

Given every Python module under ``billow/``, when its imports are read, then none imports a
name starting with one underscore from another module (dunders such as ``__version__`` are
public by convention).
"""

from __future__ import annotations

import ast
import importlib.util
import re
import tomllib
from pathlib import Path

from django.conf import settings

import billow

ROOT = Path(billow.__file__).parent


def _private_imports(source: str) -> list[str]:
    tree = ast.parse(source)
    return [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]


def test_no_module_imports_another_modules_private_name() -> None:
    found = {
        (str(path.relative_to(ROOT)), name)
        for path in sorted(ROOT.rglob("*.py"))
        for name in _private_imports(path.read_text(encoding="utf-8"))
    }

    assert found == set()


def test_the_check_sees_private_imports_at_any_depth_and_ignores_dunders() -> None:
    source = (
        "from billow.api.exceptions import _hidden, error_body\n"
        "from .lifecycle import __version__\n"
        "def f():\n"
        "    from billow.x import _inner as inner\n"
    )

    assert sorted(_private_imports(source)) == ["_hidden", "_inner"]


def test_every_module_the_import_contracts_name_exists() -> None:
    config = tomllib.loads((ROOT.parent / "pyproject.toml").read_text(encoding="utf-8"))
    named = {
        module.strip()
        for contract in config["tool"]["importlinter"]["contracts"]
        for key in ("source_modules", "forbidden_modules", "layers", "containers")
        for entry in contract.get(key, [])
        for module in re.split(r"[|:]", entry)  # a layer of independent (|) or other siblings
    }

    assert named
    assert sorted(m for m in named if importlib.util.find_spec(m) is None) == []


def test_every_app_is_installed_and_no_package_is_an_empty_placeholder() -> None:
    packages = sorted(path.parent for path in ROOT.glob("*/__init__.py"))
    apps = {
        f"billow.{package.name}"
        for package in packages
        if (package / "apps.py").exists() or (package / "models.py").exists()
    }

    assert apps - set(settings.INSTALLED_APPS) == set()
    assert [p.name for p in packages if [f.name for f in p.glob("*.py")] == ["__init__.py"]] == []
