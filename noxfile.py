"""Development tasks: ``nox -s tests lint typecheck docs bench packaging nightly``."""

from __future__ import annotations

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]
LINT_PATHS = [
    "smsbridge",
    "providers",
    "tests",
    "bench",
    "examples",
    "interop",
    "docs/build.py",
    "docs/statuses.py",
    "noxfile.py",
]
JASMIN = "jasmin==0.11.1"


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole test suite (the README's test command)."""
    session.install("-e", ".[test]", "-e", "./providers/smsbridge_smsmode")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHON)
def nightly(session: nox.Session) -> None:
    """The long crash tests at full size: a 20,000-recipient batch over two emulators,
    killed at 40 seeded moments (``SMSBRIDGE_NIGHTLY=1``), plus the rest of the suite."""
    session.install("-e", ".[test]", "-e", "./providers/smsbridge_smsmode")
    session.run("python", "-m", "pytest", *session.posargs, env={"SMSBRIDGE_NIGHTLY": "1"})


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff check and format check."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", *LINT_PATHS)
    session.run("ruff", "format", "--check", *LINT_PATHS)


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package, providers, tests and this file."""
    session.install("-e", ".[typing]", "-e", "./providers/smsbridge_smsmode")
    # The providers bundled with the package, one by one (smsmode is checked below).
    names = ("clickatell", "bulksms", "huawei", "smpp")
    bundled = [f"providers/smsbridge_{name}" for name in names]
    paths = [p for path in LINT_PATHS for p in (bundled if path == "providers" else [path])]
    session.run("mypy", *paths)
    # The smsmode package is a distribution of its own, with its own tests folder.
    session.run(
        "mypy", "providers/smsbridge_smsmode/smsbridge_smsmode", "providers/smsbridge_smsmode/tests"
    )


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the documentation site (mkdocs-material, mkdocstrings) with ``--strict``: a
    broken link, a missing reference or a docstring mkdocstrings cannot read fails it."""
    # The framework integrations are documented too, so their extras are installed.
    session.install("-e", ".[docs,django,celery]", "-e", "./providers/smsbridge_smsmode")
    session.run("python", "docs/build.py")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks; each prints its ratio against a baseline measured in the same run."""
    session.install("-e", ".[bench,django,smpp]")  # bench_django.py times the Django backends
    for script in sorted(__import__("pathlib").Path("bench").glob("bench_*.py")):
        session.run("python", str(script), *session.posargs)


@nox.session(python=PYTHON)
def packaging(session: nox.Session) -> None:
    """Build the wheel, install it in a clean environment, check every entry point."""
    session.install("build")
    session.run("python", "-m", "build", "--wheel", "--outdir", "dist")
    wheels = sorted(__import__("glob").glob("dist/smsbridge-*.whl"))
    session.install("--force-reinstall", wheels[-1])
    session.run(
        "python",
        "-W",
        "error",
        "-c",
        "import smsbridge; names = [p.name for p in smsbridge.providers()]; "
        "print(names); assert {'clickatell', 'bulksms', 'huawei', 'smpp'} <= set(names), names",
    )
    # The default observers load too (the otel one as a stand-in without its extra).
    session.run(
        "python",
        "-W",
        "error",
        "-c",
        "import smsbridge; pm = smsbridge.make_plugin_manager().pm; "
        "assert pm.has_plugin('logging') and pm.has_plugin('otel'), pm.list_name_plugin()",
    )
    session.run(
        "python",
        "-c",
        "import importlib.resources as r; "
        "names = ('smsbridge', 'smsbridge_clickatell', 'smsbridge_bulksms', 'smsbridge_huawei', "
        "'smsbridge_smpp'); "
        "missing = [n for n in names if not r.files(n).joinpath('py.typed').is_file()]; "
        "assert not missing, f'no py.typed in {missing}'",
    )


@nox.session(python=PYTHON)
def interop(session: nox.Session) -> None:
    """smsbridge's SMPP provider against Jasmin, an SMSC nobody here wrote.

    Needs Debian's ``redis-server`` and ``rabbitmq-server`` (started with throwaway state
    when not running). Jasmin goes into a virtual environment of its own (its pins clash
    with ours); its source distribution provides the configuration files.
    """
    session.install("-e", ".[test,smpp]")
    tmp = __import__("pathlib").Path(session.create_tmp()).resolve()
    server = tmp / "jasmin-venv"
    if not (server / "bin" / "jasmind.py").exists():
        session.run("python", "-m", "venv", str(server))
        session.run(str(server / "bin" / "pip"), "install", "-q", JASMIN, external=True)
    sdists = sorted(tmp.glob("jasmin-*.tar.gz"))
    if not sdists:
        session.run(
            "python", "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
            "-d", str(tmp), JASMIN,
        )  # fmt: skip
        sdists = sorted(tmp.glob("jasmin-*.tar.gz"))
    env = {
        "SMSBRIDGE_JASMIN_PYTHON": str(server / "bin" / "python"),
        "SMSBRIDGE_JASMIN_SDIST": str(sdists[-1]),
    }
    # One Jasmin, RabbitMQ and Redis for the whole session: no xdist workers.
    session.run("python", "-m", "pytest", "interop", "-n", "0", "-v", *session.posargs, env=env)
