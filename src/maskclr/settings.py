"""Settings a job receives as one JSON object per config section (``--<section>-json``).

Every command line reads its JSON arguments through these functions, so a bad argument
gets the same error everywhere: the flag, then what is wrong (not JSON, not an object, missing
or unknown keys). Defaults live in the config schema only (workflow/schemas): the workflow
hands every job the complete section, and a dataclass built here has no defaults to restate.
"""

import json
from dataclasses import MISSING, fields

from maskclr.errors import InputError


def json_object(text, flag, required=()):
    """The JSON object ``text`` given to ``flag``, with every key of ``required``."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{flag}: not valid JSON: {err}") from err
    if not isinstance(value, dict):
        raise InputError(f"{flag}: expected a JSON object, got {type(value).__name__}")
    missing = [key for key in required if key not in value]
    if missing:
        raise InputError(f"{flag}: missing keys {missing}")
    return value


def json_settings(cls, text, flag):
    """The dataclass ``cls`` built from the JSON object ``text``: unknown keys are refused by
    name, and every field without a default (all but those a stage may not read) is required."""
    values = json_object(text, flag)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise InputError(f"{flag}: unknown keys {unknown} (known: {sorted(known)})")
    missing = [f.name for f in fields(cls) if f.name not in values and f.default is MISSING]
    if missing:
        raise InputError(f"{flag}: missing keys {missing}")
    return cls(**values)


def exact_object(text, flag, keys):
    """The JSON object ``text`` given to ``flag``, with exactly the keys ``keys``: missing and
    unknown keys are refused by name."""
    values = json_object(text, flag, keys)
    unknown = sorted(set(values) - set(keys))
    if unknown:
        raise InputError(f"{flag}: unknown keys {unknown} (known: {sorted(keys)})")
    return values


def check_values(values, checks, flag):
    """``values`` if every ``checks[key]`` (a bool computed from ``values[key]``) holds; else an
    InputError naming the flag and the first failing key (its bounds are the config schema's)."""
    bad = [key for key, ok in checks.items() if not ok]
    if bad:
        raise InputError(f"{flag}: key '{bad[0]}': unexpected value {values[bad[0]]!r} (see config.schema.yaml)")
    return values


def is_int(value):
    """An integer JSON value (JSON true/false are not numbers, though Python's bool is an int)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    """An integer or floating-point JSON value."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)
