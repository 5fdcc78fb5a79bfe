"""The import picture of README's "How it is built", checked on the source: each layer
imports only the layers below it, so a rule can be read and tested without the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("rules", "models", "complaints", "tasks", "flows", "deployments", "embedded")

# What each package may import of the product (itself always).
ALLOWED: dict[str, set[str]] = {
    "rules": set(),
    "models": {"rules"},
    "complaints": {"rules", "models", "deployments"},
    "tasks": {"rules", "models", "complaints"},
    "flows": {"rules", "models", "complaints", "tasks"},
    "deployments": {"rules", "models", "complaints", "flows"},
    "embedded": {"rules", "models", "complaints", "deployments", "flows", "tasks"},
}
# The one way into the embedded stack from the product: `complaints up`.
EXCEPTIONS = {("complaints/cli.py", "embedded")}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(PRODUCT)


SOURCES = [p for package in PRODUCT for p in sorted((ROOT / package).rglob("*.py"))]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_each_module_imports_only_the_layers_below_its_own(path: Path) -> None:
    package = path.relative_to(ROOT).parts[0]
    name = str(path.relative_to(ROOT))
    wrong = {
        other
        for other in imports_of(path) - {package} - ALLOWED[package]
        if (name, other) not in EXCEPTIONS
    }
    assert not wrong, f"{name} imports {sorted(wrong)}"


def test_no_task_is_defined_outside_tasks() -> None:
    defining = [
        str(p.relative_to(ROOT))
        for p in SOURCES
        if p.relative_to(ROOT).parts[0] != "tasks"
        and any(
            isinstance(d, ast.Name | ast.Call | ast.Attribute) and _decorator_name(d) == "task"
            for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(node, ast.FunctionDef)
            for d in node.decorator_list
        )
    ]
    assert defining == []


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""
