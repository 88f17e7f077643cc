"""The tiny workflow on a real single-node SLURM, through the project's SLURM profile; a
training cut by its ``runtime`` that resumes on retry.

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
import time

import pytest
import yaml

from conftest import REPO, training_history

# beside the checkout, or beside a folder above it (a git worktree lies deeper: /work/wt/NAME)
SLURM = next(
    (p / "shared" / "slurm" for p in REPO.parents if (p / "shared" / "slurm").is_dir()),
    REPO.parent / "shared" / "slurm",
)
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.skipif(
        not (SLURM / "start-local-slurm.sh").exists() or os.geteuid() != 0, reason="needs ../shared/slurm and root"
    ),
]
RETRIED_MODEL = "results/models/synth/xsub/dstformer/stage1/seed0/model.pt"


def fit_test_node(*set_resources):
    """Overrides of the profile's site settings for the test node, plus ``rule:resource=value`` ones."""
    return [
        "--default-resources",
        "slurm_partition=debug",
        "runtime=10",
        "mem_mb=1000",
        "--set-resources",
        *(
            f"{rule}:{key}"
            for rule in ("train_stage1", "train_stage2", "evaluate", "preprocess", "extract_poses")
            for key in ("slurm_partition=debug", "mem_mb=1000")
        ),
        *(f"{rule}:{key}" for rule in ("train_stage1", "train_stage2") for key in ("gpu=1", "cpus_per_gpu=1")),
        # the test node's GPUs are fake (scheduled, no CUDA): let the GPU jobs run on its CPU
        *(f"{rule}:device=auto" for rule in ("train_stage1", "train_stage2", "evaluate")),
        "evaluate:cpus_per_gpu=1",
        "extract_poses:cpus_per_gpu=1",
        *set_resources,
        "--set-threads",
        "train_stage1=1",
        "train_stage2=1",
        "evaluate=1",
        "--software-deployment-method",
        "env-modules",  # the test machine has no conda
        "--slurm-init-seconds-before-status-checks",
        "5",
        "--jobs",
        "4",
    ]


def controller_answers():
    """Whether a SLURM controller answers ``scontrol ping``."""
    try:
        ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return ping.returncode == 0 and "UP" in ping.stdout


@pytest.fixture(scope="session")
def slurm():
    """SLURM for the session; stopped at its end only if this session started it (a SLURM that
    was up already, e.g. started by tests/run-suite.sh for the whole suite, stays up)."""
    was_up = controller_answers()
    started = subprocess.run(["bash", SLURM / "start-local-slurm.sh"], capture_output=True, text=True, timeout=600)
    assert started.returncode == 0, started.stdout[-2000:] + started.stderr[-2000:]
    yield
    if not was_up:
        subprocess.run(["bash", SLURM / "stop-local-slurm.sh"], capture_output=True, timeout=300)


def run_snakemake(workdir, *args, profile="slurm", timeout=1200):
    """Snakemake with one of the project's profiles in the foreground of a subprocess; SIGINT on
    timeout (it ignores SIGTERM)."""
    env = {**os.environ, "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]])}
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--profile",
        str(REPO / "workflow" / "profiles" / profile),
        *args,
    ]
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    return process.returncode, output


def sacct(output, *fields, wait_s=60):
    """One row per SLURM job (allocation) of the Snakemake run that printed ``output``, in
    submission order. slurmctld hands finished jobs to slurmdbd asynchronously, so on a busy
    machine the accounting can lag the run: asks again until it lists a job (at most ``wait_s``)."""
    run_id = re.search(r"SLURM run ID: (\S+)", output)[1]
    command = ["sacct", "-X", "--parsable2", "--noheader", "--name", run_id, f"--format={','.join(fields)}"]
    deadline = time.monotonic() + wait_s
    while True:
        jobs = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        if jobs.strip() or time.monotonic() > deadline:
            return [line.split("|") for line in jobs.splitlines()]
        time.sleep(2)


def test_tiny_workflow_runs_as_slurm_jobs(slurm, tmp_path):
    """Every rule of the tiny workflow as SLURM jobs; one backbone's models (stage 1, baseline,
    MaskCLR) are enough for that: 21 jobs and 6 array tasks; each job more is about 6 s of test
    time on 2 cores (measured: the tiny config's 8 models 4.1 min, these 3 models 2.6–3.2 min)."""
    config = yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())
    config["experiments"] = [
        {"dataset": "synth", "splits": ["xsub"], "backbones": ["dstformer"], "methods": ["baseline", "maskclr"]}
    ]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    code, output = run_snakemake(tmp_path, *fit_test_node())
    logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in (tmp_path / "results" / "logs").rglob("*.log"))
    assert code == 0, output[-4000:] + logs[-4000:]
    assert (tmp_path / "results" / "metrics.csv").exists() and (tmp_path / "results" / "tables" / "table1.tex").exists()

    rows = sacct(output, "JobID", "State", "AllocTRES")
    submitted = len(re.findall(r"Job \d+ has been submitted with SLURM jobid", output))
    arrays = re.findall(r"Submitted array job with Snakemake IDs (\S+) and SLURM job ID (\d+)", output)
    tasks = [job_id for job_id, _, _ in rows if "_" in job_id]  # array tasks are <jobid>_<index>
    assert submitted >= 20 and len(rows) == submitted + sum(len(ids.split(",")) for ids, _ in arrays)
    assert all(state == "COMPLETED" for _, state, _ in rows)
    # the pose shards (2 per tier, 3 tiers) went out as SLURM job arrays (one per scheduling
    # round in which shards became ready), every shard a task of one of them
    assert sum(len(ids.split(",")) for ids, _ in arrays) == 6 and len(tasks) == 6
    assert {t.split("_")[0] for t in tasks} == {array_id for _, array_id in arrays}
    # one SLURM log folder per rule: every non-local rule ran as a SLURM job
    rules = {p.name for p in (tmp_path / "results" / "logs" / "slurm").iterdir()}
    assert {
        "rule_train_stage1",
        "rule_train_stage2",
        "rule_evaluate",
        "rule_preprocess",
        "rule_extract_poses",
        "rule_generate_synthetic",
        "rule_collect_metrics",
    } <= rules
    # training and evaluation asked for GPUs (--gpus): their jobs hold gres/gpu; the simulated
    # estimators' shards need none
    assert sum("gres/gpu=1" in tres for _, _, tres in rows) == 3 + 3, rows


def test_slurm_profile_is_complete():
    profile = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.v8+.yaml").read_text())
    assert profile["executor"] == "slurm" and profile["rerun-incomplete"] and profile["keep-going"]
    assert "cpus_per_task" not in profile["default-resources"]
    for rule in ("pretrain", "train_stage1", "train_stage2"):  # torchrun over one node's GPUs
        resources = profile["set-resources"][rule]
        assert resources["gpu"] == 8 and resources["nodes"] == 1 and "tasks" not in resources
    for rule in ("pretrain", "train_stage1", "train_stage2", "evaluate"):  # GPU jobs stop when they find no CUDA
        assert profile["set-resources"][rule]["device"] == "cuda"


def test_training_cut_by_its_runtime_resumes_on_retry(slurm, tmp_path):
    """Scenario 2: a stage-1 training given ``runtime=1`` (SLURM's minimum, one minute) cannot
    finish in one allocation. The trainer gets its budget from ``resources.runtime``, saves and
    exits with status 3 half a minute before it ends (the margin is capped at half the budget);
    SLURM records the job as FAILED, the main Snakemake process resubmits it (``TRAIN_RETRIES``:
    train.retries there, 0 inside the job), and the next allocation resumes from the checkpoint in
    ``results/work/`` that Snakemake leaves alone. On this machine: two jobs, the first stopped
    after epoch ~50 of 80; on a loaded 2-core machine (CI, beside the other pytest session) an
    allocation trains ~20 epochs, so the test allows 8 resubmissions (``train.retries``). The
    result equals an uninterrupted local run of the same config exactly: the same data file, CPU,
    one thread, every epoch reseeded from (seed, epoch), and the optimiser, scheduler and history
    restored (timings aside).

    If SLURM kills the job at the limit instead (a slow start-up), sacct says TIMEOUT. Plugin 2.8.0
    counts TIMEOUT among its failure states, so the job is resubmitted just the same (seen here
    with a sleeping rule: TIMEOUT after 87 s of a 1-minute limit, then resubmitted). SLURM sends
    SIGTERM, then SIGKILL after KillWait (5 s here): the trainer exits on SIGTERM without saving
    (a mid-epoch state would not reproduce the uninterrupted run) and releases its work-dir lock,
    and the retry resumes from the last finished epoch, whose checkpoint is written atomically
    (tests/unit/test_train.py: SIGTERM, SIGKILL). The test accepts both endings of a cut attempt.
    """
    config = yaml.safe_load((REPO / "tests" / "config" / "config.yaml").read_text())
    config["train"]["schedule"]["epochs_stage1"] = 80  # ~50 s on the 2-core test machine: > 30 s a job
    config["train"]["retries"] = 8
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    metrics = tmp_path / RETRIED_MODEL.replace("model.pt", "metrics.json")
    log = tmp_path / "results" / "logs" / "train" / "synth" / "xsub" / "dstformer" / "stage1" / "seed0.log"
    # The uninterrupted run, locally; the SLURM run below retrains on the data it built.
    code, output = run_snakemake(tmp_path, "--cores", "1", RETRIED_MODEL, profile="local")
    assert code == 0, output[-4000:]
    uninterrupted = training_history(metrics)
    assert "time budget" not in log.read_text()

    one_minute_node = fit_test_node("train_stage1:runtime=1")
    code, output = run_snakemake(tmp_path, RETRIED_MODEL, "--forcerun", RETRIED_MODEL, *one_minute_node)
    assert code == 0, output[-6000:]
    rows = sacct(output, "JobID", "State", "Timelimit")
    cut, last = rows[:-1], rows[-1]
    assert cut and all(state in ("FAILED", "TIMEOUT") for _, state, _ in cut) and last[1] == "COMPLETED", rows
    assert all(limit == "00:01:00" for *_, limit in rows), rows
    # all of them jobs of this training: their SLURM logs lie in its rule's and wildcards' folder;
    # none reran the training inside its spent allocation (TRAIN_RETRIES in common.smk)
    slurm_logs = list((tmp_path / "results" / "logs" / "slurm" / "rule_train_stage1").rglob("*.log"))
    assert sorted(p.stem for p in slurm_logs) == sorted(job for job, *_ in rows)
    assert not any("Trying to restart" in p.read_text() for p in slurm_logs)
    # the FAILED ones stopped themselves with status 3 (their logs, printed by show-failed-logs
    # before each retry deletes them; torchrun reports its worker's exit code)
    stops = [int(k) for k in re.findall(r"time budget of 1.0 min reached after epoch (\d+)", output)]
    budget_ended = sum(state == "FAILED" for _, state, _ in cut)
    assert len(stops) == budget_ended == len(re.findall(r"exitcode\s*: 3 ", output)), output[-6000:]
    assert stops == sorted(set(stops)), stops  # each attempt went on from where the last stopped
    resumed = int(re.search(r"resuming at epoch (\d+)", log.read_text())[1])
    assert resumed >= max(stops, default=1) > 0
    assert training_history(metrics) == uninterrupted
