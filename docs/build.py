"""Build the API reference from the docstrings, and check the documentation.

Run ``python docs/build.py`` (``nox -s docs`` does). For each public module it writes
``docs/_build/reference/<module>.md``: every name in the module's ``__all__`` with its
signature and docstring (a class with its public methods and properties), plus an
``index.md``. Then it checks, and lists as warnings:

* a public name without a docstring (a constant documented by a string literal after
  its assignment, or ``#:`` comments before it, counts);
* a docstring whose ``Args:`` section names a parameter the signature lacks, or misses
  one the signature has;
* a broken relative link in any Markdown page under ``docs/`` (links into the generated
  reference included, which is why the reference is written first).

It exits 1 when there is any warning, so the build treats warnings as errors. It needs
nothing but the standard library and an importable smsbridge.
"""

from __future__ import annotations

import ast
import enum
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
OUT = DOCS / "_build" / "reference"

MODULES = (
    "smsbridge",
    "smsbridge.testing",
    "smsbridge.http",
    "smsbridge.outbox",
    "smsbridge.router",
    "smsbridge.reports",
    "smsbridge.pricing",
    "smsbridge.tasks",
    "smsbridge.inputs",
    "smsbridge.config",
    "smsbridge.demo",
    "smsbridge_clickatell",
    "smsbridge_bulksms",
    "smsbridge_huawei",
    "smsbridge_smpp",
    "smsbridge_smsmode",
)
"""Modules whose ``__all__`` makes the reference, in the index's order."""

_SECTION = re.compile(r"^(\s*)([A-Z][A-Za-z ]*):\s*$")
_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_]\w*)(?:\s*\([^)]*\))?\s*:")
_ROLE = re.compile(r":[\w:]+:`~?([^`<]+?)`")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SKIPPED_PARAMS = frozenset({"self", "cls"})


def args_section(doc: str) -> list[str] | None:
    """The parameter names an ``Args:`` section documents, or ``None`` without one.

    Args:
        doc: A docstring, already dedented (:func:`inspect.getdoc`).

    Returns:
        The names, stars removed (``**kwargs`` is ``kwargs``).
    """
    lines = doc.splitlines()
    for index, line in enumerate(lines):
        match = _SECTION.match(line)
        if match is None or match.group(2) not in ("Args", "Arguments", "Parameters"):
            continue
        base = len(match.group(1))
        names: list[str] = []
        entry_indent: int | None = None
        for body in lines[index + 1 :]:
            if not body.strip():
                continue
            indent = len(body) - len(body.lstrip())
            if indent <= base:
                break
            if entry_indent is None:
                entry_indent = indent
            if indent == entry_indent:
                found = _ENTRY.match(body.strip())
                if found:
                    names.append(found.group(1).lstrip("*"))
        return names
    return None


def signature_params(obj: Any) -> list[str] | None:
    """Parameter names a docstring's ``Args:`` should cover, or ``None`` if unknown."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = [p for p in signature.parameters.values() if p.name not in _SKIPPED_PARAMS]
    if params and all(
        p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params
    ):  # an undeclared signature (a Protocol, a C type): nothing to compare
        return None
    # A leading underscore marks a parameter as private: not documented.
    return [p.name for p in params if not p.name.startswith("_")]


def defined_in(module: ModuleType) -> Iterator[ModuleType]:
    """``module`` and, for a package, every module under it (where constants may live)."""
    yield module
    for info in pkgutil.walk_packages(getattr(module, "__path__", []), module.__name__ + "."):
        if info.name.endswith("__main__") or "cli" in info.name.split("."):
            continue  # importing a command line runs it
        try:
            yield importlib.import_module(info.name)
        except ImportError:  # an optional dependency is missing: nothing to read there
            continue


def constant_doc(module: ModuleType, name: str) -> tuple[str | None, str]:
    """The documentation of a constant: the string after its assignment or ``#:`` lines.

    Returns:
        The text (``None`` when undocumented) and where the name is assigned.
    """
    where = module.__name__
    for candidate in defined_in(module):
        try:
            source = inspect.getsource(candidate)
        except (OSError, TypeError):
            continue
        tree = ast.parse(source)
        lines = source.splitlines()
        body = tree.body
        for index, node in enumerate(body):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            if not any(isinstance(t, ast.Name) and t.id == name for t in targets):
                continue
            where = f"{candidate.__name__}:{node.lineno}"
            following = body[index + 1] if index + 1 < len(body) else None
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                return inspect.cleandoc(following.value.value), where
            comments: list[str] = []
            line = node.lineno - 2
            while line >= 0 and lines[line].lstrip().startswith("#:"):
                comments.insert(0, lines[line].lstrip()[2:].strip())
                line -= 1
            return ("\n".join(comments) or None), where
    origin = _imported_from(module, name)
    if origin is not None:
        return constant_doc(origin, name)
    return None, where


def _imported_from(module: ModuleType, name: str) -> ModuleType | None:
    """The module ``name`` is re-exported from (``from smsbridge.x import name``)."""
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return None
    for node in tree.body:
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and any(alias.name == name and alias.asname is None for alias in node.names)
        ):
            return importlib.import_module(node.module)
    return None


def _location(obj: Any) -> str:
    try:
        file = inspect.getsourcefile(obj)
        _, line = inspect.getsourcelines(obj)
    except (OSError, TypeError):
        return getattr(obj, "__module__", "?")
    path = Path(file or "?")
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return f"{shown}:{line}"


def check_args(obj: Any, doc: str, label: str, warn: Callable[[str], None]) -> None:
    """Warn when ``doc``'s ``Args:`` and ``obj``'s signature disagree."""
    documented = args_section(doc)
    if documented is None:
        return
    inherited: list[str] = []
    if inspect.isclass(obj):
        if issubclass(obj, enum.Enum):
            return
        # A subclass documents what it adds; inherited parameters are documented on
        # the base class (ProviderOptions' base_url, SmsBridgeError's scope...).
        for base in obj.__mro__[1:]:
            inherited += args_section(inspect.cleandoc(base.__doc__ or "")) or []
    params = signature_params(obj)
    if params is None:
        return
    for name in documented:
        if name not in params:
            warn(f"{label}: Args names {name!r}, which the signature lacks")
    for name in params:
        if name not in documented and name not in inherited:
            warn(f"{label}: Args misses parameter {name!r}")


def _clean(doc: str) -> str:
    """Sphinx roles become code spans: ``:class:`~a.B``` reads ``B``."""
    return _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", doc)


def _signature(obj: Any) -> str:
    try:
        return str(inspect.signature(obj))
    except (TypeError, ValueError):
        return ""


def _members(cls: type) -> Iterator[tuple[str, Any, str]]:
    """A class's own public methods and properties that have docstrings."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property | staticmethod | classmethod) or inspect.isfunction(value):
            func = value.__func__ if isinstance(value, staticmethod | classmethod) else value
            doc = inspect.getdoc(func)
            if doc:
                kind = "property" if isinstance(value, property) else "method"
                yield name, func, f"{kind}: {doc}"


def render_module(name: str, warn: Callable[[str], None]) -> tuple[str, str]:
    """Render one module's reference page and check its names.

    Returns:
        The page's Markdown and the module's one-line summary.
    """
    module = importlib.import_module(name)
    summary = (inspect.getdoc(module) or "").split("\n", 1)[0]
    out = [f"# `{name}`", "", _clean(inspect.getdoc(module) or ""), ""]
    for public in getattr(module, "__all__", ()):
        if public.startswith("__"):
            continue
        obj = getattr(module, public)
        label = f"{name}.{public}"
        out.append(f"## `{public}`")
        out.append("")
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.isbuiltin(obj):
            doc = inspect.getdoc(obj) if obj.__doc__ else None
            if inspect.isclass(obj) and obj.__doc__ is None:
                doc = None
            if not doc:
                warn(f"{_location(obj)}: {label} has no docstring")
            else:
                check_args(obj, doc, f"{_location(obj)}: {label}", warn)
            prefix = "class " if inspect.isclass(obj) else "def "
            out += ["```python", f"{prefix}{public}{_signature(obj)}", "```", ""]
            out += [_clean(doc or ""), ""]
            if inspect.isclass(obj):
                for member, func, text in _members(obj):
                    out += [f"### `{public}.{member}`", ""]
                    if not text.startswith("property"):
                        out += ["```python", f"def {member}{_signature(func)}", "```", ""]
                    out += [_clean(text), ""]
        else:
            doc, where = constant_doc(module, public)
            if not doc:
                warn(f"{where}: {label} has no docstring")
            out += ["```python", f"{public} = {obj!r}"[:300], "```", "", _clean(doc or ""), ""]
    return "\n".join(out).rstrip() + "\n", summary


def check_links(warn: Callable[[str], None]) -> None:
    """Warn about every relative link in ``docs/**/*.md`` whose target does not exist."""
    for page in sorted(DOCS.rglob("*.md")):
        in_code = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.lstrip().startswith("```"):
                in_code = not in_code
            if in_code:
                continue
            for match in _LINK.finditer(line):
                target = match.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                    continue  # a URL with a scheme, or an anchor on the same page
                path = target.split("#", 1)[0]
                if not (page.parent / path).exists():
                    warn(f"{page.relative_to(ROOT)}:{number}: broken link {target!r}")


def build() -> list[str]:
    """Write the reference and return every warning."""
    warnings: list[str] = []
    OUT.mkdir(parents=True, exist_ok=True)
    index = [
        "# API reference",
        "",
        "Generated by `python docs/build.py` from the docstrings; see "
        "[how it is built](../../reference.md).",
        "",
    ]
    for name in MODULES:
        try:
            page, summary = render_module(name, warnings.append)
        except ImportError as exc:
            warnings.append(f"{name}: cannot import ({exc})")
            continue
        (OUT / f"{name}.md").write_text(page, encoding="utf-8")
        index.append(f"- [`{name}`]({name}.md): {summary}")
    (OUT / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    check_links(warnings.append)
    return sorted(dict.fromkeys(warnings))


def main() -> int:
    """Build, print every warning, and return 1 if there was any."""
    warnings = build()
    for warning in warnings:
        print(f"warning: {warning}")
    print(f"reference written to {OUT.relative_to(ROOT)}; {len(warnings)} warning(s)")
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
