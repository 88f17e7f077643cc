"""Snakemake's own per-output records in ``.snakemake/metadata/`` (file persistence, 9.x).

Each output has one JSON file named by the URL-safe base64 of its path, split into folders
of at most NAME_MAX - 1 characters (all but the last prefixed with ``@``) for long paths.
Fields used here: ``rule``, ``input``, ``log``, ``params``, ``shellcmd``, ``conda_env``,
``software_stack_hash``, ``starttime``, ``endtime``, ``external_jobid`` (the SLURM job id; null
for local jobs) and ``input_checksums``.
"""

import json
import os
from base64 import urlsafe_b64encode
from pathlib import Path

from maskclr.errors import InputError

METADATA = Path(".snakemake") / "metadata"


def record_path(output, root=METADATA, max_len=None):
    """Where Snakemake keeps the record of ``output`` (a path relative to the workdir).

    ``max_len`` is the file system's NAME_MAX, as Snakemake reads it (given only by tests).
    """
    root = Path(root)
    max_len = max_len or (os.pathconf(root, "PC_NAME_MAX") if root.exists() else 255) or 255
    b64 = urlsafe_b64encode(str(output).encode()).decode()
    parts = [b64[i : i + max_len - 1] for i in range(0, len(b64), max_len - 1)]
    return root.joinpath(*["@" + p for p in parts[:-1]], parts[-1])


def read(output, root=METADATA):
    """(path, Snakemake's record of ``output``); InputError naming the file if missing or bad."""
    path = record_path(output, root)
    try:
        return path, json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(
            f"{path}: no Snakemake metadata for {output} (run the workflow with the "
            "default file persistence, in this directory)"
        ) from None
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{path}: unreadable Snakemake metadata for {output}: {err}") from err
