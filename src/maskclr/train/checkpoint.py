"""Resumable training state in a work directory that is not a Snakemake output.

Snakemake deletes the declared outputs of a failed job but leaves this directory alone, so a
job cut by a time limit resumes from its last finished epoch when it is run again. A lock file
keeps a second copy of the same job from running on the same state.
"""

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

import torch

from maskclr.errors import InputError
from maskclr.fileio import atomic_output, brief
from maskclr.models.loading import read_checkpoint

STATE = "checkpoint.pt"
LOCK = "lock.json"


def save(path, state):
    """``torch.save`` atomically (a kill mid-write leaves the previous checkpoint intact)."""
    with atomic_output(path) as tmp:
        torch.save(state, tmp)


def load(path, keys=()):
    """A training checkpoint (weights only, finite), with ``keys`` present; else InputError."""
    state = read_checkpoint(path, "maskclr.train")
    missing = [k for k in keys if k not in state]
    if missing:
        raise InputError(f"{path}: key '{missing[0]}': missing: not a checkpoint written by maskclr.train")
    return state


def _alive(owner):
    """Whether the lock's owner is still running (checkable on the same host only)."""
    if owner.get("host") != socket.gethostname():
        return True
    if not isinstance(owner.get("pid"), int) or owner["pid"] <= 0:
        return False  # corrupt: and kill(0 or -1, 0) would probe a whole process group
    try:
        os.kill(owner["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkDirLock:
    """Exclusive use of a work directory by one live job; a dead owner's lock is taken over.

    A lock held on another host counts as live until it is ``stale_s`` old (its owner refreshes
    it every epoch), since that process cannot be checked from here. Checking the lock and
    writing one's own is made atomic by an OS file lock (``flock``) on ``lock.json.guard``:
    without it two jobs starting at the same instant could both find no lock and both proceed.
    """

    def __init__(self, work_dir, stale_s=3600):
        self.path = Path(work_dir) / LOCK
        self.stale_s = stale_s

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(LOCK + ".guard"), "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)  # released when the file is closed
            self._refuse_live_owner()
            owner = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
                "started": time.time(),
            }
            with atomic_output(self.path) as tmp:
                tmp.write_text(json.dumps(owner))
        return self

    def _refuse_live_owner(self):
        """Raise when the current lock's owner is alive; a corrupt lock is taken over with a warning."""
        try:
            owner = json.loads(self.path.read_text() or "{}")
            fresh = time.time() - self.path.stat().st_mtime < self.stale_s
        except FileNotFoundError:
            return
        except (ValueError, OSError) as err:
            print(f"warning: {self.path}: unreadable lock ({brief(str(err))}); taking it over", file=sys.stderr)
            return
        if isinstance(owner, dict) and owner and fresh and _alive(owner):
            raise InputError(
                f"{self.path}: this training job is already running (pid {owner.get('pid')} on "
                f"{owner.get('host')}, SLURM job {owner.get('slurm_job_id')}); refusing to start a second copy"
            )

    def refresh(self):
        self.path.touch()

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)
