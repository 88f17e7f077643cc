"""The tiny workflow on a real single-node SLURM, through the project's SLURM profile.

Starts SLURM with ``../shared/slurm/start-local-slurm.sh`` (installs its Debian packages, fake
GPUs, slurmdbd for sacct) once per session and stops it at the end. Skipped where the scripts
or root are missing. Site settings of the profile (partitions, memory, 8 GPUs) are overridden
on the command line to fit the test node, exactly as a user overrides them for a small run.
"""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO

SLURM = REPO.parent / "shared" / "slurm"
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(not (SLURM / "start-local-slurm.sh").exists() or os.geteuid() != 0,
                       reason="needs ../shared/slurm and root"),
]
FIT_TEST_NODE = [
    "--default-resources", "slurm_partition=debug", "runtime=10", "mem_mb=1000",
    "--set-resources", *(f"{rule}:{key}" for rule in ("train_stage1", "train_stage2", "evaluate", "preprocess")
                         for key in ("slurm_partition=debug", "mem_mb=1000")),
    *(f"{rule}:{key}" for rule in ("train_stage1", "train_stage2") for key in ("gpu=1", "cpus_per_gpu=1")),
    "evaluate:cpus_per_gpu=1",
    "--set-threads", "train_stage1=1", "train_stage2=1", "evaluate=1",
    "--software-deployment-method", "env-modules",  # the test machine has no conda
    "--slurm-init-seconds-before-status-checks", "5", "--jobs", "4",
]


@pytest.fixture(scope="session")
def slurm():
    started = subprocess.run(["bash", SLURM / "start-local-slurm.sh"], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    yield
    subprocess.run(["bash", SLURM / "stop-local-slurm.sh"], capture_output=True, timeout=300)


def run_snakemake(workdir, *args, timeout=1200):
    """Snakemake in the foreground of a subprocess; SIGINT on timeout (it ignores SIGTERM)."""
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
           "--profile", str(REPO / "workflow" / "profiles" / "slurm"), *args]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    return process.returncode, output


def test_tiny_workflow_runs_as_slurm_jobs(slurm, tmp_path):
    (tmp_path / "config.yaml").write_text((REPO / "tests" / "config" / "config.yaml").read_text())
    code, output = run_snakemake(tmp_path, *FIT_TEST_NODE)
    logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in (tmp_path / "results" / "logs").rglob("*.log"))
    assert code == 0, output[-4000:] + logs[-4000:]
    assert (tmp_path / "results" / "metrics.csv").exists() and (tmp_path / "results" / "tables" / "table1.tex").exists()

    run_id = re.search(r"SLURM run ID: (\S+)", output)[1]
    jobs = subprocess.run(["sacct", "-X", "--parsable2", "--noheader", "--name", run_id,
                           "--format=JobID,State,AllocTRES"], capture_output=True, text=True, check=True).stdout
    rows = [line.split("|") for line in jobs.splitlines()]
    submitted = len(re.findall(r"Job \d+ has been submitted with SLURM jobid", output))
    assert submitted >= 30 and len(rows) == submitted
    assert all(state == "COMPLETED" for _, state, _ in rows)
    # one SLURM log folder per rule: every non-local rule ran as a SLURM job
    rules = {p.name for p in (tmp_path / "results" / "logs" / "slurm").iterdir()}
    assert {"rule_train_stage1", "rule_train_stage2", "rule_evaluate", "rule_preprocess",
            "rule_extract_poses", "rule_generate_synthetic", "rule_collect_metrics"} <= rules
    # training asked for GPUs (--gpus): its jobs hold gres/gpu
    assert sum("gres/gpu=1" in tres for _, _, tres in rows) == 8 + 8  # 8 trainings, 8 evaluations


def test_slurm_profile_is_complete():
    profile = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["rerun-incomplete"] and profile["keep-going"]
    assert "cpus_per_task" not in profile["default-resources"]
    for rule in ("train_stage1", "train_stage2"):
        resources = profile["set-resources"][rule]
        assert resources["gpu"] == 8 and resources["nodes"] == 1 and "tasks" not in resources
