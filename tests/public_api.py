"""A capability's public API (its package ``__init__``), checked the same way for every package.

    api = assert_lazy_api("animstudio.editing", heavy=("numpy", "opentimelineio"))
    assert api.Edit is Edit
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from types import ModuleType

import pytest


def assert_lazy_api(package: str, heavy: tuple[str, ...] = ("numpy",)) -> ModuleType:
    """Importing ``package`` loads none of its modules nor any of ``heavy``; every name in ``__all__``
    resolves, also once all its modules are imported (to the thing, never to a module of that name);
    a name it does not export is an AttributeError. Returns the package."""
    prefixes = (*heavy, f"{package}.")
    code = (f"import sys, {package} as api; loaded = sorted(m for m in sys.modules if m.startswith({prefixes!r})); "
            f"assert not loaded, loaded; print(len(api.__all__))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    api = importlib.import_module(package)
    for module in pkgutil.iter_modules(api.__path__):
        importlib.import_module(f"{package}.{module.name}")   # binds each module on the package
    assert int(proc.stdout) == len(api.__all__) == len(set(api.__all__))
    assert not [name for name in api.__all__ if inspect.ismodule(getattr(api, name))]
    with pytest.raises(AttributeError):
        api.no_such_name  # noqa: B018
    return api
