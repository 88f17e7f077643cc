"""File helpers shared by every stage: atomic writes, checksums and safe unpickling.

PYSKL skeleton files are pickles, and unpickling runs arbitrary code. ``load_pickle`` therefore
uses a restricted unpickler that rebuilds only numpy arrays, numpy dtypes/scalars and builtin
containers, and refuses everything else.
"""

import contextlib
import hashlib
import io
import os
import pickle
import tempfile
from pathlib import Path

from maskclr.errors import InputError

# (module, name) pairs a PYSKL pickle legitimately needs: numpy's array/scalar reconstructors
# (numpy 1.x and 2.x spellings) and nothing that can execute code.
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("builtins", "slice"),
    ("builtins", "complex"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),
}


class _Refused(pickle.UnpicklingError):
    """The pickle asks for a global outside the allow-list."""


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise _Refused(
            f"refusing to load '{module}.{name}': only numpy arrays and builtin containers "
            "are allowed in skeleton pickles"
        )


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
        return _RestrictedUnpickler(io.BytesIO(data)).load()
    except _Refused as err:
        raise InputError(f"{where}: not a safe skeleton pickle: {err}") from err
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError, IndexError) as err:
        raise InputError(
            f"{where}: not a valid pickle (truncated or corrupt): {type(err).__name__}: {err}"
        ) from err


@contextlib.contextmanager
def atomic_output(path):
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    A failure or interruption leaves no partial ``path`` behind (the temporary file is removed),
    so Snakemake never sees a half-written output.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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
