"""The package's version, in a module of its own: code inside the package names it
from here, never through the front door (``smsbridge/__init__.py`` re-exports it)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
