"""Where and with what a run was made: git state, package versions, hosts of jobs."""

import importlib.metadata
import platform
import shutil
import socket
import subprocess
from pathlib import Path

PACKAGES = (
    "torch",
    "numpy",
    "h5py",
    "pandas",
    "matplotlib",
    "pyyaml",
    "imageio",
    "imageio-ffmpeg",
    "snakemake",
    "snakemake-executor-plugin-slurm",
)


def package_versions():
    """Python and the project's packages (None where not installed); read without importing."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(repo, *args):
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def git_state(repo):
    """Commit and dirty flag of the workflow's repository; ``changes`` says why it is dirty."""
    commit = _git(repo, "rev-parse", "HEAD")
    if commit is None:
        return {"repository": str(repo), "commit": None, "dirty": None, "changes": []}
    changes = _git(repo, "status", "--porcelain").splitlines()
    return {"repository": str(repo), "commit": commit, "dirty": bool(changes), "changes": changes}


def slurm_nodes(job_ids):
    """{SLURM job id: node list} from one ``sacct`` call; {} where sacct is missing or fails."""
    if not job_ids or shutil.which("sacct") is None:
        return {}
    done = subprocess.run(
        ["sacct", "-X", "--noheader", "--parsable2", "--format", "JobID,NodeList", "-j", ",".join(sorted(job_ids))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if done.returncode != 0:
        return {}
    rows = (line.split("|") for line in done.stdout.splitlines())
    return {row[0]: row[1] for row in rows if len(row) == 2 and row[1] not in ("", "None assigned")}


def host_of(job_id, nodes):
    """The host of one job, and where that answer comes from (the record says which)."""
    if job_id is None:
        # Snakemake records no host; a local job ran on the host running the workflow, where
        # the (local) audit rule runs too.
        return {"name": socket.gethostname(), "source": "local job: the host running the workflow"}
    if job_id in nodes:
        return {"name": nodes[job_id], "source": "sacct NodeList of the SLURM job"}
    return {"name": None, "source": "SLURM job: sacct unavailable or job unknown to it"}


def workflow_repo(snakefile):
    return Path(snakefile).resolve().parent
