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


# namedtuple's public API is spelt with an underscore so as not to clash with fields.
NAMEDTUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_make", "_field_defaults"})
ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "hasattr", "setattr", "delattr"})


def _defined_private_names(tree: ast.AST) -> set[str]:
    """Underscored names a module defines itself: its classes may touch these on each
    other's instances (``other._value`` in ``__eq__``, a handler and its own server)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__slots__" for t in node.targets
        ):
            names.update(
                c.value
                for c in ast.walk(node.value)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            )
    return {name for name in names if name.startswith("_")}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _mine(owner: ast.expr) -> bool:
    return isinstance(owner, ast.Name) and owner.id in ("self", "cls")


def foreign_private_access(
    source: str, where: str = "<source>", module: str = "__main__", *, strict: bool = False
) -> Iterator[str]:
    """Underscored names used across a module boundary.

    Reports an underscored attribute read off anything but ``self``/``cls`` (unless the
    module defines that name itself; with ``strict``, always), the same through
    ``getattr("_name")`` and its kin, an underscored name imported from another module,
    a private module imported from outside its package, and ``type(x).__name__`` checks.
    """
    tree = ast.parse(source)
    own = set() if strict else _defined_private_names(tree)
    package = module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if (
                _private(node.attr)
                and not _mine(node.value)
                and node.attr not in own
                and node.attr not in NAMEDTUPLE_API
            ):
                yield f"{where}:{node.lineno}: .{node.attr}"
        elif isinstance(node, ast.Call):
            func, args = node.func, node.args
            if (
                isinstance(func, ast.Name)
                and func.id in ATTRIBUTE_FUNCTIONS
                and len(args) >= 2
                and isinstance(args[1], ast.Constant)
                and isinstance(args[1].value, str)
                and _private(args[1].value)
                and not _mine(args[0])
                and args[1].value not in own
            ):
                yield f"{where}:{node.lineno}: {func.id}(..., {args[1].value!r})"
        elif isinstance(node, ast.Compare) and any(
            _is_type_name(side) for side in (node.left, *node.comparators)
        ):
            yield f"{where}:{node.lineno}: a check of type(...).__name__"
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _private(alias.name):
                    yield f"{where}:{node.lineno}: import of {alias.name}"
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            parts = target.split(".")
            for depth, part in enumerate(parts):
                owner = ".".join(parts[:depth])
                if _private(part) and not (module == owner or module.startswith(f"{owner}.")):
                    yield f"{where}:{node.lineno}: from {target} import ... (private to {owner})"
                    break


def scanned_for_private_access() -> Iterator[Path]:
    """The package, the bundled providers and the worked example."""
    yield from package_files()
    yield from provider_files()


def test_no_module_touches_another_modules_private_names() -> None:
    found = [
        problem
        for path in scanned_for_private_access()
        for problem in foreign_private_access(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), module_name(path)
        )
    ]
    assert found == []


def test_limits_use_only_public_doors_of_stores_providers_and_urllib3() -> None:
    found = [
        problem
        for path in sorted((ROOT / "smsbridge" / "limits").glob("*.py"))
        for problem in foreign_private_access(
            path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), strict=True
        )
    ]
    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "provider._http._manager.clear()",
        "if type(store).__name__ == 'PostgresStore': pass",
        "from smsbridge.outbox._pg_base import split_url",
        "from smsbridge.bridge import _merge",
        "results = [bridge._result(r, None) for r in refs]",
        "getattr(info, '_is_text_encoding', True)",
        "from smsbridge.pricing._engine import price",
    ],
)
def test_the_private_access_scan_finds_each_kind(source: str) -> None:
    assert list(foreign_private_access(source, module="smsbridge.aio.bridge")) != []


@pytest.mark.parametrize(
    ("source", "module"),
    [
        (
            "class A:\n    def __eq__(self, other):\n        return self._v == other._v\n"
            "    def __init__(self):\n        self._v = 1\n",
            "smsbridge.credentials",
        ),
        ("from smsbridge.outbox._sql_common import x", "smsbridge.outbox.sqlite"),
        ("from ._engine import price", "smsbridge.pricing.quote"),
        ("parts = urlsplit(url)._replace(query='')", "smsbridge.outbox.factory"),
        ("n = getattr(self, '_conn', None)", "smsbridge.limits.postgres"),
    ],
)
def test_the_private_access_scan_lets_a_module_use_its_own(source: str, module: str) -> None:
    assert list(foreign_private_access(source, module=module)) == []


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


# docs/architecture.md's layers, as numbers: a module may import its own layer and those
# below it, never one above. A module belongs to the longest name listed here; one that
# matches none has not been placed yet, which fails the test (place it in the docs too).
LAYERS: dict[str, float] = {
    # 1. values
    "smsbridge.model": 1,
    "smsbridge.results": 1,
    "smsbridge.status": 1,
    "smsbridge.errors": 1,
    "smsbridge.numbers": 1,
    "smsbridge.encoding": 1,
    "smsbridge.credentials": 1,
    "smsbridge.codes": 1,
    "smsbridge.text_table": 1,
    "smsbridge.version": 1,
    "smsbridge.extras": 1,
    "smsbridge.inputs": 1,
    "smsbridge.worker_health": 1,
    "smsbridge.observe.events": 1,
    # 2. the HTTP client, then what a provider is
    "smsbridge.http": 2,
    "smsbridge.provider": 2.5,
    "smsbridge.emulator_wiring": 2.5,
    "smsbridge.plugins": 2.5,
    "smsbridge.observe.specs": 2.5,
    "smsbridge.testing": 2.5,
    # 3. services
    "smsbridge.router": 3,
    "smsbridge.limits": 3,
    "smsbridge.limits_shared": 3,
    "smsbridge.outbox": 3,
    "smsbridge.pricing": 3,
    "smsbridge.reports": 3,
    "smsbridge.observe": 3,
    "smsbridge.progress": 3,
    # 4. dispatch, then its shells
    "smsbridge.dispatch": 4,
    "smsbridge.bridge": 4.5,
    "smsbridge.aio": 4.5,
    "smsbridge.worker": 4.5,
    "smsbridge.worker_options": 4.5,
    "smsbridge.tasks": 4.5,
    "smsbridge.config_schema": 4.5,
    "smsbridge.config_check": 4.5,
    "smsbridge.config": 4.5,
    "smsbridge.testing.conformance": 4.5,
    # 5. the front doors
    "smsbridge": 5,
    "smsbridge.sdk": 5,
    # 6. what a person runs
    "smsbridge.demo": 6,
    "smsbridge.contrib": 6,
    "smsbridge.cli": 6.5,
    "smsbridge.__main__": 6.5,
}
DOORS = ("smsbridge", "smsbridge.sdk")


def layer_of(module: str) -> tuple[str, float] | None:
    """The name in :data:`LAYERS` that ``module`` falls under, and its layer.

    ``None`` for a module of the package that is not placed. A name imported from a
    module (``smsbridge.limits.Limit``) falls under that module, one imported from the
    front door (``smsbridge.__version__``) under the door.
    """
    parts = module.split(".")
    for end in range(len(parts), 1, -1):
        name = ".".join(parts[:end])
        if name in LAYERS:
            return name, LAYERS[name]
    where = ROOT.joinpath(*parts)
    if module != "smsbridge" and (where.with_suffix(".py").exists() or where.is_dir()):
        return None
    return "smsbridge", LAYERS["smsbridge"]


def upward_imports(module: str, imported: set[str]) -> Iterator[str]:
    """What ``module`` imports from a layer above its own, or from a front door."""
    placed = layer_of(module)
    if placed is None or (placed[0] == "smsbridge" and module != "smsbridge"):
        yield f"{module} is in no layer of LAYERS"
        return
    own, level = placed
    for target in sorted(imported):
        if target.split(".")[0] != "smsbridge":
            continue
        found = layer_of(target)
        if found is None:
            yield f"{module} imports {target}, which is in no layer of LAYERS"
            continue
        name, other = found
        if name in DOORS and own not in DOORS:
            yield f"{module} imports the front door {name} ({target})"
        elif other > level:
            yield f"{module} (layer {level}) imports {target} (layer {other})"


def test_no_module_imports_a_layer_above_its_own() -> None:
    offenders = [
        problem
        for path in package_files()
        for problem in upward_imports(module_name(path), imported_modules(path))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("smsbridge.demo.summary", "from smsbridge.cli.output import table"),
        ("smsbridge.pricing.quote", "from smsbridge.bridge import SmsBridge"),
        ("smsbridge.limits.shared", "from smsbridge.dispatch import Dispatcher"),
        ("smsbridge.http.client", "from smsbridge.provider import Provider"),
        ("smsbridge.contrib.django.views", "from smsbridge.cli.serve_reports import x"),
        ("smsbridge.testing.emulator", "from smsbridge.bridge import SmsBridge"),
        ("smsbridge.observe.otel", "from smsbridge import __version__"),
        ("smsbridge.cli", "import smsbridge.sdk"),
        ("smsbridge.observe.events", "from smsbridge.router.decide import Action"),
        ("smsbridge.brand_new", "from smsbridge.errors import ConfigurationError"),
    ],
)
def test_the_layer_scan_reports_an_import_from_above(module: str, source: str) -> None:
    path = ROOT / Path(*module.split(".")).with_suffix(".py")
    assert list(upward_imports(module, imported_modules(path, source))) != []


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("smsbridge.cli.send", "from smsbridge.bridge import SmsBridge"),
        ("smsbridge.config", "from smsbridge.bridge import SmsBridge"),
        ("smsbridge.router.hooks", "from smsbridge.observe.sink import EventSink"),
        ("smsbridge.plugins", "from smsbridge.observe.specs import EventSpecs"),
        ("smsbridge.sdk.testing", "from smsbridge.testing.conformance import X"),
        ("smsbridge", "from smsbridge.version import __version__"),
    ],
)
def test_the_layer_scan_lets_a_downward_import_through(module: str, source: str) -> None:
    path = ROOT / Path(*module.split(".")).with_suffix(".py")
    assert list(upward_imports(module, imported_modules(path, source))) == []


def test_hooks_are_named_and_the_old_manager_name_still_works() -> None:
    from smsbridge.plugins import Hooks, HookSpecs, LoadedPlugins

    specs = {name for name in vars(HookSpecs) if name.startswith("smsbridge_")}
    assert set(Hooks.__annotations__) == specs
    manager = smsbridge.make_plugin_manager(load_entry_points=False)
    assert isinstance(manager, LoadedPlugins)
    assert smsbridge.PluginManager is LoadedPlugins
    for name in specs:
        assert getattr(manager.hook, name).name == name
