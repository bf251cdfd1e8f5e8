"""The two front doors: providers import only the author's API and the application's names.

A provider package that reaches into ``smsbridge.outbox`` or ``smsbridge.http.client``
breaks whenever those move; ``smsbridge.sdk`` and ``smsbridge.__all__`` are the promises.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

import smsbridge
import smsbridge.sdk
import smsbridge.sdk.testing

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_TREES = (ROOT / "providers", ROOT / "examples" / "custom_provider")
ALLOWED_MODULES = frozenset({"smsbridge.sdk", "smsbridge.sdk.testing"})

# What `smsbridge` exported before smsbridge.sdk existed: every name stays importable.
EXPORTED_BEFORE_SDK = [
    "GSM7",
    "UCS2",
    "Batch",
    "BatchResult",
    "Capabilities",
    "CodeTable",
    "ConfigurationError",
    "Cost",
    "Coverage",
    "DeliveryReport",
    "ErrorInfo",
    "InvalidMessageError",
    "InvalidNumberError",
    "Kind",
    "MalformedResponseError",
    "Message",
    "MessageNotFoundError",
    "NormalisationReport",
    "NumberNormaliser",
    "Outcome",
    "PluginManager",
    "PluginWarning",
    "Provider",
    "ProviderError",
    "ProviderInfo",
    "ProviderOptions",
    "ProviderRegistry",
    "Recipient",
    "Redactor",
    "Scope",
    "Secret",
    "Segmentation",
    "SendOptions",
    "SendResult",
    "SmsBridge",
    "SmsBridgeError",
    "Status",
    "Template",
    "TemplateError",
    "TransportError",
    "UnknownOutcomeError",
    "UnsupportedOperationError",
    "__version__",
    "get_provider",
    "hookimpl",
    "make_plugin_manager",
    "new_reference",
    "normalise",
    "normalise_many",
    "providers",
    "secret_converter",
    "segment",
    "transliterate",
]

APPLICATION_NAMES = [
    "SmsBridge",
    "RetryPolicy",
    "Delivery",
    "Limit",
    "SqliteStore",
    "PostgresStore",
    "OutboxStore",
    "open_store",
    "load_config",
    "Worker",
    "enqueue",
    "get_provider",
    "Status",
    "SendResult",
]

AUTHOR_ONLY = ("hookimpl", "CodeTable", "Outcome", "Redactor", "secret_converter")


def violations(source: str, where: str = "<source>") -> Iterator[str]:
    """Every import of smsbridge in ``source`` outside the two front doors."""
    app = set(smsbridge.__all__)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top != "smsbridge":
                continue
            if node.module == "smsbridge":
                for alias in node.names:
                    if alias.name not in app:
                        yield f"{where}:{node.lineno}: {alias.name} is not in smsbridge.__all__"
            elif node.module not in ALLOWED_MODULES:
                yield f"{where}:{node.lineno}: from {node.module} import ..."
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.name
                top = name.split(".")[0]
                if top == "smsbridge" and name != "smsbridge" and name not in ALLOWED_MODULES:
                    yield f"{where}:{node.lineno}: import {name}"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "smsbridge"
            and node.attr not in app
            and node.attr != "sdk"
        ):
            yield f"{where}:{node.lineno}: smsbridge.{node.attr} is not in smsbridge.__all__"


def provider_files() -> Iterator[Path]:
    for tree in PROVIDER_TREES:
        yield from sorted(tree.rglob("*.py"))


def test_the_scan_covers_every_provider_package() -> None:
    scanned = {path.relative_to(ROOT).parts[:2] for path in provider_files()}
    assert {
        ("providers", "smsbridge_clickatell"),
        ("providers", "smsbridge_bulksms"),
        ("providers", "smsbridge_huawei"),
        ("providers", "smsbridge_smsmode"),
        ("examples", "custom_provider"),
    } <= scanned


def test_providers_import_only_the_two_front_doors() -> None:
    found = [
        problem
        for path in provider_files()
        for problem in violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from smsbridge.http.client import HttpClient", "from smsbridge.http.client import"),
        ("from smsbridge import hookimpl", "hookimpl is not in smsbridge.__all__"),
        ("import smsbridge.outbox", "import smsbridge.outbox"),
        ("import smsbridge\n@smsbridge.hookimpl\ndef f(): pass", "smsbridge.hookimpl is not"),
    ],
)
def test_the_scan_reports_a_reach_past_the_doors(source: str, expected: str) -> None:
    assert any(expected in problem for problem in violations(source))


@pytest.mark.parametrize(
    "source",
    [
        "from smsbridge import Message, SendResult",
        "from smsbridge.sdk import HttpClient, hookimpl",
        "from smsbridge.sdk.testing import ProviderConformance",
        "import smsbridge\nx = smsbridge.get_provider",
    ],
)
def test_the_scan_lets_the_front_doors_through(source: str) -> None:
    assert list(violations(source)) == []


@pytest.mark.parametrize("name", EXPORTED_BEFORE_SDK)
def test_every_name_exported_before_the_sdk_is_still_importable(name: str) -> None:
    assert getattr(smsbridge, name) is not None


@pytest.mark.parametrize("name", APPLICATION_NAMES)
def test_the_application_door_has_what_an_application_needs(name: str) -> None:
    assert name in smsbridge.__all__
    assert getattr(smsbridge, name) is not None


@pytest.mark.parametrize("name", AUTHOR_ONLY)
def test_author_names_are_behind_the_author_door(name: str) -> None:
    assert name not in smsbridge.__all__
    assert name in smsbridge.sdk.__all__
    assert getattr(smsbridge.sdk, name) is getattr(smsbridge, name)


def test_every_sdk_name_resolves() -> None:
    for module in (smsbridge.sdk, smsbridge.sdk.testing):
        missing = [name for name in module.__all__ if not hasattr(module, name)]
        assert missing == [], module.__name__


def _is_type_name(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "__name__"
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "type"
    )


def foreign_private_access(source: str, where: str = "<source>") -> Iterator[str]:
    """Attributes starting with an underscore read off anything but ``self``/``cls``,
    ``type(x).__name__`` checks, and imports of private modules."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            owner = node.value
            mine = isinstance(owner, ast.Name) and owner.id in ("self", "cls")
            dunder = node.attr.startswith("__") and node.attr.endswith("__")
            if node.attr.startswith("_") and not mine and not dunder:
                yield f"{where}:{node.lineno}: .{node.attr}"
        elif isinstance(node, ast.Compare) and any(
            _is_type_name(side) for side in (node.left, *node.comparators)
        ):
            yield f"{where}:{node.lineno}: a check of type(...).__name__"
        elif isinstance(node, ast.ImportFrom) and any(
            part.startswith("_") and not part.startswith("__")
            for part in (node.module or "").split(".")
        ):
            yield f"{where}:{node.lineno}: from {node.module} import ..."


def test_limits_use_only_public_doors_of_stores_providers_and_urllib3() -> None:
    found = [
        problem
        for path in sorted((ROOT / "smsbridge" / "limits").glob("*.py"))
        for problem in foreign_private_access(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT))
        )
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "provider._http._manager.clear()",
        "if type(store).__name__ == 'PostgresStore': pass",
        "from smsbridge.outbox._pg_base import split_url",
    ],
)
def test_the_private_access_scan_finds_each_kind(source: str) -> None:
    assert list(foreign_private_access(source)) != []


def module_name(path: Path) -> str:
    """The dotted name of a module file under ``ROOT``."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, source: str | None = None) -> set[str]:
    """Every module ``path`` (or ``source``, read as if it were there) imports, at any
    depth (function-level and TYPE_CHECKING too).

    Relative imports are resolved, and ``from package import name`` also counts as an
    import of ``package.name`` (it may be a module).
    """
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    found: set[str] = set()
    if source is None:
        source = path.read_text(encoding="utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def package_files() -> Iterator[Path]:
    yield from sorted((ROOT / "smsbridge").rglob("*.py"))


# Old module paths kept as thin re-exports for applications; the package itself uses
# the new ones, so a re-export can be retired without touching anything inside.
MOVED = {
    "smsbridge.limits_shared": "smsbridge.limits",
    "smsbridge.router.limits": "smsbridge.limits",
    "smsbridge.config_check": "smsbridge.config_schema",
    "smsbridge.dispatch.support": "smsbridge.dispatch.items (chunking, breakers, outcomes)",
    "smsbridge.pricing.result": "smsbridge.pricing.quote_values",
    "smsbridge.cli.config_cmd": "smsbridge.cli.options (the command: smsbridge.cli.config)",
}


def test_the_package_uses_no_old_module_path() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {module} (use {MOVED[module]})"
        for path in package_files()
        if module_name(path) not in MOVED
        for module in sorted(imported_modules(path))
        if module in MOVED
    ]
    assert offenders == []


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_still_import(old: str) -> None:
    module = importlib.import_module(old)
    assert module.__all__
    assert all(hasattr(module, name) for name in module.__all__)


def test_the_import_scan_resolves_relative_and_from_imports() -> None:
    source = "from . import limits\nfrom ..limits_shared import SharedLimits\n"
    found = imported_modules(ROOT / "smsbridge" / "router" / "probe.py", source)
    assert {"smsbridge.router.limits", "smsbridge.limits_shared"} <= found


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("demo", "smsbridge.cli"),
        ("pricing", "smsbridge.bridge"),
        ("limits", "smsbridge.bridge"),
        ("limits", "smsbridge.dispatch"),
        ("http", "smsbridge.provider"),
    ],
)
def test_no_package_imports_a_layer_above_it(lower: str, upper: str) -> None:
    package = ROOT / "smsbridge" / lower
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sorted(package.glob("*.py"))
        for module in imported_modules(path)
        if module == upper or module.startswith(f"{upper}.")
    ]
    assert offenders == []


def test_hooks_are_named_and_the_old_manager_name_still_works() -> None:
    from smsbridge.plugins import Hooks, HookSpecs, LoadedPlugins

    specs = {name for name in vars(HookSpecs) if name.startswith("smsbridge_")}
    assert set(Hooks.__annotations__) == specs
    manager = smsbridge.make_plugin_manager(load_entry_points=False)
    assert isinstance(manager, LoadedPlugins)
    assert smsbridge.PluginManager is LoadedPlugins
    for name in specs:
        assert getattr(manager.hook, name).name == name
