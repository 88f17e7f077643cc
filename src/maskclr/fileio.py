"""File helpers shared by every stage: atomic writes, checksums and safe unpickling.

PYSKL skeleton files are pickles, and unpickling runs arbitrary code. ``load_pickle`` therefore
uses a restricted unpickler that rebuilds only plain numpy arrays (numbers, bools, strings),
numpy dtypes/scalars and builtin containers, and refuses everything else *before* the object
exists: a forged object dtype, a structured dtype or a dtype state that claims to hold Python
objects would let the file's bytes be used as memory addresses (a segfault, or worse).
"""

import contextlib
import glob
import hashlib
import io
import json
import os
import pickle
import reprlib
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from maskclr.errors import InputError

# dtype kinds a skeleton file may hold: bool, (unsigned) integers, floats, complex, bytes, str.
_PLAIN_KINDS = frozenset("biufcSU")
# Nesting deeper than this is no PYSKL file (it is at most dict → list → dict → tuple) and would
# overflow the stack of anything that walks it (repr, pickle.dump).
MAX_NESTING = 32


class _Refused(pickle.UnpicklingError):
    """The pickle asks for something outside the allow-list."""


def brief(value, limit=80):
    """A repr of ``value`` cut to about ``limit`` characters, whatever its size or nesting."""
    text = _BRIEF.repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


_BRIEF = reprlib.Repr()
_BRIEF.maxlevel, _BRIEF.maxstring, _BRIEF.maxother = 3, 60, 60


def _plain_dtype(dtype):
    """Refuse a dtype that is not a plain number, bool or (sized) string, or that carries
    objects, fields or a sub-array; return it otherwise."""
    if not isinstance(dtype, np.dtype):
        raise _Refused(f"expected a numpy dtype, got {type(dtype).__name__}")
    if (
        dtype.kind not in _PLAIN_KINDS
        or dtype.hasobject
        or dtype.fields is not None
        or dtype.subdtype is not None
        or dtype.itemsize == 0
    ):
        raise _Refused(
            f"refusing numpy dtype {brief(dtype.str)} (kind '{dtype.kind}'): only plain "
            "number, bool and string arrays are allowed in skeleton pickles"
        )
    return dtype


def _dtype(spec, align=False, copy=False):
    """``numpy.dtype`` for a type code only (e.g. ``'<f4'``), always a copy: the pickle's BUILD
    then sets the state of this copy, never of numpy's shared singleton."""
    if not isinstance(spec, str):
        raise _Refused(f"refusing numpy dtype built from {type(spec).__name__}: only type codes are allowed")
    try:
        dtype = np.dtype(spec, bool(align), True)
    except TypeError as err:
        raise _Refused(f"refusing numpy dtype {brief(spec)}: {err}") from None
    return _plain_dtype(dtype)


def _dtype_state(dtype, state):
    """BUILD of a dtype: only its byte order may differ from a fresh dtype of the same code
    (no names, fields, sub-array or flags such as 'holds Python objects')."""
    fresh = np.dtype(dtype.str).__reduce__()[2]
    if (
        not isinstance(state, tuple)
        or len(state) != len(fresh)
        or state[1] not in ("<", ">", "|", "=")
        or state[:1] + state[2:] != fresh[:1] + fresh[2:]
    ):
        raise _Refused(f"refusing numpy dtype state {brief(state)}: only plain dtypes are allowed")
    dtype.__setstate__(state)
    _plain_dtype(dtype)


def _array_state(array, state):
    """BUILD of an array: ``(version, shape, dtype, fortran, raw bytes)`` with a plain dtype."""
    if not isinstance(state, tuple) or len(state) != 5 or not isinstance(state[4], (bytes, bytearray)):
        raise _Refused(f"refusing numpy array state {brief(state)}: expected raw bytes")
    _plain_dtype(state[2])
    array.__setstate__(state)


class _NDArrayClass:
    """Stands for ``numpy.ndarray`` in a pickle: an argument of ``_reconstruct``, never called
    (a direct ``ndarray(shape, dtype, buffer)`` call builds arrays over arbitrary memory, or huge
    uninitialised ones from a few bytes)."""

    def __call__(self, *args, **kwargs):
        raise _Refused("refusing a direct call of numpy.ndarray: arrays are rebuilt from their data only")


_NDARRAY = _NDArrayClass()


def _reconstruct(subtype, shape, typecode):
    """numpy's ``_reconstruct`` as its pickles call it: an empty ndarray, filled by BUILD."""
    if subtype is not _NDARRAY or shape != (0,) or typecode != b"b":
        raise _Refused("refusing numpy _reconstruct other than numpy's own (ndarray, (0,), b'b')")
    return np.ndarray((0,), np.int8)


def _scalar(dtype, data=None):
    """A numpy scalar of a plain dtype from its bytes."""
    if not isinstance(data, bytes) or len(data) != _plain_dtype(dtype).itemsize:
        raise _Refused(f"refusing numpy scalar of {dtype} from {brief(data)}")
    return np.frombuffer(data, dtype)[0]


def _frombuffer(buffer, dtype, shape, order):
    """numpy's ``_frombuffer`` (pickle protocol 5) for a plain dtype."""
    return np.frombuffer(buffer, _plain_dtype(dtype)).reshape(shape, order=order)


_NUMPY_GLOBALS = {"_reconstruct": _reconstruct, "scalar": _scalar, "_frombuffer": _frombuffer}
# (module, name) → what a PYSKL pickle legitimately needs: numpy's array/scalar reconstructors
# (numpy 1.x and 2.x spellings), checked as above, and builtins that cannot execute code.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _dtype,
    **{
        (module, name): function
        for module in ("numpy.core.multiarray", "numpy._core.multiarray", "numpy.core.numeric", "numpy._core.numeric")
        for name, function in _NUMPY_GLOBALS.items()
    },
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("collections", "OrderedDict"): __import__("collections").OrderedDict,
    ("_codecs", "encode"): __import__("_codecs").encode,
}


class _RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler: unlike the C one, it lets BUILD (``__setstate__``) be checked."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return _ALLOWED_GLOBALS[module, name]
        raise _Refused(
            f"refusing to load '{module}.{name}': only numpy arrays and builtin containers "
            "are allowed in skeleton pickles"
        )

    def load_build(self):
        state, inst = self.stack.pop(), self.stack[-1]
        if isinstance(inst, np.dtype):
            _dtype_state(inst, state)
        elif isinstance(inst, np.ndarray):
            _array_state(inst, state)
        else:
            raise _Refused(f"refusing to set the state of a {type(inst).__name__}")

    dispatch[pickle.BUILD[0]] = load_build


_CONTAINERS = (dict, list, tuple, set, frozenset)


def check_nesting(obj, where, limit=MAX_NESTING):
    """Raise ``InputError`` when containers nest deeper than ``limit`` (or form a cycle).

    Iterative, and a container is walked again only when reached deeper than before, so shared
    references (a few bytes of pickle each) cost at most ``limit`` visits, not an exponential walk.
    """
    deepest, stack = {}, [(obj, 1)] if isinstance(obj, _CONTAINERS) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise InputError(f"{where}: containers nested deeper than {limit} levels (or a cycle): not a skeleton file")
        if deepest.get(id(item), 0) >= depth:
            continue
        deepest[id(item)] = depth
        children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, _CONTAINERS))


def load_pickle(path):
    """Unpickle ``path`` allowing only numpy arrays and builtin containers.

    Raises ``InputError`` naming the file for a missing, truncated, non-pickle or unsafe file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read file ({err.strerror})") from err
    return unpickle_bytes(data, path)


def unpickle_bytes(data, where):
    """``load_pickle`` for bytes already read (e.g. from a zip member named ``where``)."""
    try:
        obj = _RestrictedUnpickler(io.BytesIO(data)).load()
    except _Refused as err:
        raise InputError(f"{where}: not a safe skeleton pickle: {err}") from err
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        ImportError,
        IndexError,
        KeyError,
        MemoryError,
    ) as err:
        raise InputError(
            f"{where}: not a valid pickle (truncated or corrupt): {type(err).__name__}: {brief(str(err), 200)}"
        ) from err
    check_nesting(obj, where)
    return obj


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    A failure or interruption leaves no partial ``path`` behind (the temporary file is removed),
    so Snakemake never sees a half-written output. A kill -9 cannot remove it: the temporary
    files a killed earlier writer of ``path`` left are removed here, on the next run of its job.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def dump_pickle(obj, path):
    """Pickle ``obj`` to ``path`` atomically."""
    with atomic_output(path) as tmp:
        with open(tmp, "wb") as fh:
            pickle.dump(obj, fh, protocol=4)


def write_json(path, payload):
    """``payload`` as indented JSON at ``path``, atomically."""
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=1) + "\n")


def sha256(path, chunk=1 << 20):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(path):
    """``sha256`` of a file; for a folder (a ``directory()`` output), the SHA-256 over the sorted
    ``<sha256>  <relative path>`` lines of every file in it."""
    path = Path(path)
    if not path.is_dir():
        return sha256(path)
    lines = sorted(f"{sha256(f)}  {f.relative_to(path).as_posix()}\n" for f in path.rglob("*") if f.is_file())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def load_npz(path, keys, hint=""):
    """{key: array} of ``keys`` from an npz file (loaded, not pickled); InputError naming the file
    when it cannot be read (missing, truncated, not a zip) or lacks one of ``keys`` (``hint``
    says what to do about it)."""
    try:
        with np.load(path) as npz:
            missing = [key for key in keys if key not in npz.files]
            if missing:
                raise InputError(f"{path}: missing array '{missing[0]}'{hint}")
            return {key: npz[key] for key in keys}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise InputError(f"{path}: not a readable npz file: {err}") from err
