"""The verbs of the command language, one module per area, found without a list to edit."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from handlers.registry import Registry, Verb


def verb_modules() -> list[ModuleType]:
    """Every module of this package that declares `VERBS`, in help order.

    A module declares where its verbs come in help with an `ORDER` number (ties go by module
    name), so adding a verb module needs no edit here and the order never depends on the disk.
    """
    found: list[tuple[int, str, ModuleType]] = []
    for info in pkgutil.iter_modules(__path__, f"{__name__}."):
        module = importlib.import_module(info.name)
        if not hasattr(module, "VERBS"):
            continue  # a helper module shared by verbs
        order = getattr(module, "ORDER", None)
        if not isinstance(order, int) or isinstance(order, bool):
            raise TypeError(f"{info.name} declares VERBS but no ORDER number for help")
        found.append((order, info.name, module))
    return [module for _, _, module in sorted(found, key=lambda f: (f[0], f[1]))]


def all_verbs() -> list[Verb]:
    """Every verb of the language, in help order."""
    return [verb for module in verb_modules() for verb in module.VERBS]


def default_registry() -> Registry:
    """A registry holding every verb."""
    return Registry(all_verbs())
