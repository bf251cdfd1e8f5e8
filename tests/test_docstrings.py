"""Every public class and function of the documented modules has a docstring.

The documentation site's API reference is read from these docstrings (mkdocstrings); a
name without one would be a heading with nothing under it, which mkdocs does not flag.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable, Iterator

import pytest

MODULES = (
    "smsbridge",
    "smsbridge.sdk",
    "smsbridge.sdk.testing",
    "smsbridge.testing",
    "smsbridge.http",
    "smsbridge.outbox",
    "smsbridge.router",
    "smsbridge.limits",
    "smsbridge.reports",
    "smsbridge.pricing",
    "smsbridge.tasks",
    "smsbridge.inputs",
    "smsbridge.config",
    "smsbridge_clickatell",
    "smsbridge_bulksms",
    "smsbridge_huawei",
    "smsbridge_smsmode",
)
"""The modules the site's API reference pages show (docs/reference/)."""


def public_callables(module_name: str) -> Iterator[tuple[str, object]]:
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", ()):
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            yield f"{module_name}.{name}", obj


def undocumented(items: Iterable[tuple[str, object]]) -> list[str]:
    missing = []
    for label, obj in items:
        # A class's own docstring, not one inherited through inspect.getdoc.
        if not (getattr(obj, "__doc__", None) or "").strip():
            missing.append(label)
    return missing


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_class_and_function_has_a_docstring(module_name: str) -> None:
    assert list(public_callables(module_name)) != []
    assert undocumented(public_callables(module_name)) == []


def test_the_check_finds_a_missing_docstring() -> None:
    class Bare:
        pass

    class Documented:
        """Says why."""

    def bare() -> None:
        pass

    found = undocumented([("Bare", Bare), ("Documented", Documented), ("bare", bare)])
    assert found == ["Bare", "bare"]
