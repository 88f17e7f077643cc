"""Classes named ``"module:Class"``: how a user's own backbone or pose estimator joins the registries.

A config entry may name a class by its import path (``backbones.<name>.class`` or an estimator's
``type``), e.g. ``"my_models.mynet:MyNet"``, instead of a built-in name. The module must be
importable by the job: a ``my_models/`` package or ``my_models.py`` in the workflow's working
directory is (every job runs ``python -m`` there, which puts it first on ``sys.path``), or a
folder the user adds to ``PYTHONPATH`` (exported before Snakemake starts, so cluster jobs inherit
it). The module is imported only in the job that builds the class, never by Snakemake.
"""

import importlib
import re

from maskclr.errors import InputError

CLASS_SPEC = re.compile(r"[\w.]+:\w+")


def is_class_spec(text):
    """Whether ``text`` has the form ``"module:Class"`` (dotted module, class name)."""
    return isinstance(text, str) and CLASS_SPEC.fullmatch(text) is not None


def import_class(spec, what):
    """The class ``spec`` ("module:Class") names; ``what`` (e.g. "backbone 'mynet'") is named in errors."""
    if not is_class_spec(spec):
        raise InputError(f"{what}: expected 'module:Class' (e.g. 'my_models.mynet:MyNet'), got {spec!r}")
    module, name = spec.split(":")
    try:
        found = getattr(importlib.import_module(module), name)
    except ImportError as err:
        raise InputError(
            f"{what}: cannot import module '{module}' ({err}): the job's environment must have what it "
            "imports (envs/*.yaml), and a module of yours must lie in the working directory or a folder on PYTHONPATH"
        ) from err
    except AttributeError:
        raise InputError(f"{what}: module '{module}' has no class '{name}'") from None
    if not isinstance(found, type):
        raise InputError(f"{what}: '{spec}' is a {type(found).__name__}, not a class")
    return found
