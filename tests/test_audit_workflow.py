"""`snakemake audit` and `python -m maskclr.audit verify` on the finished tiny run.

The run is audited once, through a non-default ``--configfile`` (a copy of its config.yaml), so
that the nested Snakemake calls of the audit and of verify must follow it. Each test that
changes the run restores it, mtimes included, for the other tests sharing it.
"""

import contextlib
import csv
import importlib.metadata
import json
import os
import subprocess

import pytest

from conftest import REPO, run_module, snakemake
from maskclr.fileio import sha256

pytestmark = pytest.mark.workflow

# {method}/seed{k} of every transformer model: the directory of a model, the stem of its evaluation
TRANSFORMER_RUNS = ("stage1/seed0", "baseline/seed0", "maskclr/seed0", "stage1/seed1", "baseline/seed1")


@pytest.fixture(scope="module")
def audited(finished_run):
    alt = finished_run / "alt.yaml"
    alt.write_text((finished_run / "config.yaml").read_text())
    result = snakemake(finished_run, "audit", "--cores", "1", "--configfile", alt)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return finished_run


@contextlib.contextmanager
def changed(path, edit):
    """``path`` rewritten by ``edit(bytes) -> bytes`` inside the block, then restored exactly."""
    original, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(edit(original))
        yield
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


# Every output of the tiny run: poses (3 tiers × 2 shards + merged + quality), data, split lists
# (a folder), models, evaluations (CSV, activation, confusion), metrics, tables and figures.
RESULTS = 97


def verify(workdir):
    """(exit status, {result: [changes]}) of `python -m maskclr.audit verify` in ``workdir``."""
    done = run_module("maskclr.audit", "verify", cwd=workdir)
    assert done.returncode in (0, 1), done.stderr
    lines = [line.split(": ", 1) for line in done.stdout.splitlines() if done.returncode]
    return done.returncode, {result: changes.split("; ") for result, changes in lines}


def read_record(workdir, result):
    return json.loads((workdir / "results" / "audit" / "provenance" / f"{result}.json").read_text())


def test_audit_records_every_result(audited):
    audit = audited / "results" / "audit"
    summary = list(csv.DictReader((audit / "summary.tsv").open(), delimiter="\t"))
    index = list(csv.DictReader((audit / "index.csv").open()))
    results = {row["output_file"] for row in summary}
    assert len(results) == RESULTS and all((r["status"], r["plan"]) == ("ok", "no update") for r in summary)
    assert {row["result"] for row in index} == results
    assert all((audit / row["record"]).is_file() for row in index)
    assert "id0[all]" in (audit / "rulegraph.mmd").read_text()
    run = json.loads((audit / "run.json").read_text())
    assert run["invocation"]["configfiles"] == [str(audited / "alt.yaml")]


def test_a_training_record_traces_data_code_config_and_job(audited):
    result = "results/models/synth/xsub/transformer/maskclr/seed0/model.pt"
    rec = read_record(audited, result)
    assert rec["rule"] == "train_stage2" and rec["sha256"] == sha256(audited / result)
    data = "results/data/synth/mq/xsub.h5"
    assert rec["inputs"][data] == sha256(audited / data)
    code = rec["code"]["files"]  # from the job's code param, by package path
    assert {"maskclr/models/transformer.py", "maskclr/train/loop.py"} <= set(code)
    assert "maskclr/models/sttformer.py" not in code
    assert code["maskclr/train/loop.py"] == sha256(REPO / "src" / "maskclr" / "train" / "loop.py")
    assert not any("maskclr code" in p for p in rec["config"]["params"])
    assert any('"mask_ratio": 0.5' in p and '"masking": "agpm"' in p for p in rec["config"]["params"])
    assert len(rec["config"]["sha256"]) == 64 and len(rec["code"]["sha256"]) == 64
    job = rec["job"]
    assert job["slurm_job_id"] is None and job["host"]["source"].startswith("local job")
    assert job["log"] == ["results/logs/train/synth/xsub/transformer/maskclr/seed0.log"]
    assert "--stage stage2" in job["shellcmd"] and job["starttime"] < job["endtime"]
    head = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert rec["environment"]["git"]["commit"] == head
    assert rec["environment"]["packages"]["snakemake"] == importlib.metadata.version("snakemake")


def test_audit_is_current_until_a_result_changes(audited):
    result = snakemake(audited, "audit", "-n", "--configfile", audited / "alt.yaml")
    assert "Nothing to be done" in result.stdout + result.stderr


def test_verify_passes_right_after_the_audit(audited):
    done = run_module("maskclr.audit", "verify", cwd=audited)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"all {RESULTS} results in results/audit match their records" in done.stdout


def test_verify_names_exactly_the_results_of_an_edited_source(audited):
    with changed(REPO / "src" / "maskclr" / "models" / "transformer.py", lambda b: b + b"\n# an edit\n"):
        status, report = verify(audited)
    expected = {
        f"results/models/synth/xsub/transformer/{run}/{f}"
        for run in TRANSFORMER_RUNS
        for f in ("model.pt", "metrics.json")
    }
    expected |= {
        f"results/eval/synth/xsub/transformer/{run}{s}"
        for run in TRANSFORMER_RUNS
        for s in (".csv", "_activation.npz", "_confusion.npz")
    }
    assert status == 1 and set(report) == expected
    assert all(changes == ["code changed: maskclr/models/transformer.py"] for changes in report.values())


def test_verify_names_a_config_change_of_the_run(audited):
    # the run's own --configfile: verify must read it again, as the run did
    with changed(audited / "alt.yaml", lambda b: b.replace(b"mask_ratio: 0.5", b"mask_ratio: 0.25")):
        status, report = verify(audited)
    assert status == 1 and report == {
        f"results/models/synth/xsub/{backbone}/maskclr/seed0/{f}": ["config changed: params of rule train_stage2"]
        for backbone in ("dstformer", "transformer")
        for f in ("model.pt", "metrics.json")
    }


def test_verify_names_a_corrupted_input_and_its_readers(audited):
    evaluation = "results/eval/synth/xsub/dstformer/maskclr/seed0.csv"
    with changed(audited / evaluation, lambda b: b.replace(b"0", b"1", 1)):
        status, report = verify(audited)
    assert status == 1 and report == {
        evaluation: ["result changed"],
        "results/metrics.csv": [f"input changed: {evaluation}"],
    }
