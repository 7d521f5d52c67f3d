"""Only the services app writes ``Service``, ``ServiceEvent`` and ``ServiceOperation`` rows: other
apps call ``billow.services.actions`` (the state machine is enforced in one place).

The check reads the source: a write is a constructor call of one of the models, a manager or
queryset write (``create``, ``bulk_create``, ``update`` ...) anywhere in a chain starting at
one of them, ``save`` / ``delete`` on a name that holds a service (``s``, ``svc``,
``service``, ``locked.service`` ...), or hand-written SQL naming their tables (the model's
``_meta.db_table`` or the table name in a string). The import-linter contract in
``pyproject.toml`` keeps the model imports themselves to read modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "billow"
MODELS = {"Service", "ServiceEvent", "ServiceOperation"}
WRITES = {
    "create",
    "bulk_create",
    "update",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "delete",
}
INSTANCE_WRITES = {"save", "delete"}
SERVICE_NAME = re.compile(r"^(s|svc|service|services?_\w+|\w+_service)$")
TABLE_NAME = re.compile(r"\bservices_service(event|operation)?\b")


def _root_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "db_table":
            root = _root_name(node.value)
            if root in MODELS:
                found.append((node.lineno, f"{root}._meta.db_table (SQL)"))
        text = node.value if isinstance(node, ast.Constant) else None
        if isinstance(node, ast.Constant) and isinstance(text, str) and TABLE_NAME.search(text):
            found.append((node.lineno, "a services table in SQL"))
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in MODELS:
            found.append((node.lineno, f"{func.id}(...)"))
        elif isinstance(func, ast.Attribute):
            root = _root_name(func.value)
            if func.attr in WRITES and root in MODELS:
                found.append((node.lineno, f"{root}...{func.attr}()"))
            target = func.value
            holder = target.attr if isinstance(target, ast.Attribute) else _root_name(target)
            if func.attr in INSTANCE_WRITES and SERVICE_NAME.match(holder):
                found.append((node.lineno, f"{holder}.{func.attr}()"))
    return found


def _outside_services() -> list[Path]:
    return sorted(
        p
        for p in ROOT.rglob("*.py")
        if "services" not in p.relative_to(ROOT).parts[:1] and "migrations" not in p.parts
    )


def test_no_app_but_services_writes_service_rows() -> None:
    offenders = [
        f"{path.relative_to(ROOT.parent)}:{line}: {what}"
        for path in _outside_services()
        for line, what in _writes(ast.parse(path.read_text(), filename=str(path)))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "source",
    [
        "Service.objects.filter(pk=1).update(status='x')",
        "ServiceEvent.objects.create(service_id=1)",
        "ServiceOperation.objects.bulk_create([])",
        "ServiceEvent(service_id=1)",
        "svc.save(update_fields=['parameters'])",
        "locked.service.save()",
        "s.delete()",
        "f'UPDATE {Service._meta.db_table} SET paid_until = %s'",
        "'UPDATE services_serviceoperation SET status = %s'",
    ],
)
def test_the_check_finds_each_kind_of_write(source: str) -> None:
    assert len(_writes(ast.parse(source))) == 1


def test_the_check_lets_reads_and_other_models_pass() -> None:
    source = (
        "Service.objects.filter(pk=1).values_list('id')\n"
        "order.save()\n"
        "Expense.objects.create(service_id=1)\n"
        "PendingChange.objects.filter(service=s).delete()\n"
    )
    assert _writes(ast.parse(source)) == []
