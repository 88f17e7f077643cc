"""``python -m maskclr.audit record``: write the audit record of a finished run.

Sources: Snakemake's ``--summary`` (which outputs the run has, all of them up to date), its
per-output metadata (rule, inputs, params, command, times, SLURM job id) and the files on disk
(re-hashed now, so the record states what a reviewer can check against). A job's code is its
``code`` param (workflow/rules/code.smk): the SHA-256 of each package file it may import.
"""

import ast
import csv
import hashlib
import json
import os
import shutil
import tempfile
from base64 import b64decode
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import maskclr
from maskclr.audit import environment, metadata, nested
from maskclr.errors import InputError
from maskclr.fileio import atomic_output, content_sha256

SRC = Path(maskclr.__file__).resolve().parent.parent  # src/, the root of code file names
UP_TO_DATE = ("ok", "no update")
INDEX_COLUMNS = ("result", "rule", "sha256", "slurm_job_id", "host", "record")


@cache
def file_sha256(path):
    """SHA-256 of a file (or folder), once per path: the same data file is an input of many jobs."""
    return content_sha256(path)


CODE_KEY = "maskclr code"  # the one key of the JSON `code` param (workflow/rules/code.smk)


def code_files(recorded):
    """``{"maskclr/…/x.py": sha256}`` if a recorded param (its repr) is the code param, else None."""
    try:
        value = json.loads(ast.literal_eval(recorded))
    except (ValueError, TypeError, SyntaxError):  # not a string holding JSON
        return None
    return value[CODE_KEY] if isinstance(value, dict) and list(value) == [CODE_KEY] else None


def split_params(params):
    """(the config params, the code files) of a job's recorded params."""
    code = [files for p in params if (files := code_files(p)) is not None]
    return [p for p in params if code_files(p) is None], (code[0] if code else {})


def code_hash(files):
    """One hash for a job's code: SHA-256 over sorted ``<sha256>  <maskclr/…/x.py>`` lines.

    Named by package path, so the same code gives the same hash whichever directory ran it.
    """
    lines = sorted(f"{digest}  {name}\n" for name, digest in files.items())
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def config_slice(params):
    """The job's config slice: every hyper-parameter reaches a job through ``params:``.

    Snakemake stores the params' values (repr, sorted, without names; the names are in the
    recorded shell command); the code param is recorded as the code, not here. The hash is
    over their canonical JSON.
    """
    return {"params": params, "sha256": hashlib.sha256(json.dumps(params).encode()).hexdigest()}


def iso(timestamp):
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat() if timestamp else None


def slurm_job_id(meta):
    """The SLURM job id of a job as text; None for a job that ran locally."""
    job_id = meta.get("external_jobid")
    return None if job_id is None else str(job_id)


def provenance(row, meta_path, meta, nodes, environment_info):
    """The record of one result (a --summary row), from its Snakemake metadata and the disk."""
    result, rule = row["output_file"], row["rule"]
    if meta["rule"] != rule:
        raise InputError(f"{meta_path}: records rule {meta['rule']} for {result}, --summary says {rule}")
    inputs = {path: file_sha256(path) for path in meta["input"]}
    config, code = split_params(meta.get("params") or [])
    job_id = slurm_job_id(meta)
    return {
        "result": result,
        "sha256": file_sha256(result),
        "rule": rule,
        "config": config_slice(config),
        "inputs": inputs,
        "code": {"sha256": code_hash(code), "files": code},
        "job": {
            "shellcmd": meta.get("shellcmd"),
            "log": meta.get("log") or [],
            "starttime": iso(meta.get("starttime")),
            "endtime": iso(meta.get("endtime")),
            "slurm_job_id": job_id,
            "host": environment.host_of(job_id, nodes),
            # the rule's declared, pinned environment (used when run with --sdm conda)
            "conda_env": b64decode(meta["conda_env"]).decode() if meta.get("conda_env") else None,
            "software_stack_hash": meta.get("software_stack_hash"),
            # Snakemake's own checksums at job end (files under 1 MB): a reviewer can compare
            "input_checksums": meta.get("input_checksums") or {},
        },
        "snakemake_metadata": str(meta_path),
        "environment": environment_info,
    }


def record_file(result):
    """``provenance/<result>.json``; results must lie inside the working directory."""
    if Path(result).is_absolute() or ".." in Path(result).parts:
        raise InputError(f"{result}: a result outside the working directory cannot be audited")
    return Path("provenance") / f"{result}.json"


def check_up_to_date(rows):
    stale = [f"{r['output_file']} ({r['status']}, {r['plan']})" for r in rows if (r["status"], r["plan"]) != UP_TO_DATE]
    if stale:
        raise InputError(
            "snakemake --summary: the run is not up to date; run `snakemake audit` "
            "(which rebuilds first): " + "; ".join(stale)
        )


def write_records(records, audit_dir):
    """All records into ``provenance/`` at once: a new folder renamed over the old one."""
    final = audit_dir / "provenance"
    tmp = Path(tempfile.mkdtemp(prefix=".provenance.", dir=audit_dir))
    try:
        for record in records:
            path = tmp / record_file(record["result"]).relative_to("provenance")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_text(path, text):
    with atomic_output(path) as tmp:
        tmp.write_text(text)


def write_index(records, path):
    with atomic_output(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(INDEX_COLUMNS)
        for r in records:
            writer.writerow(
                [
                    r["result"],
                    r["rule"],
                    r["sha256"],
                    r["job"]["slurm_job_id"] or "",
                    r["job"]["host"]["name"] or "",
                    record_file(r["result"]),
                ]
            )


def record(invocation, audit_dir):
    """Write summary.tsv, rulegraph.mmd, run.json, index.csv and provenance/ into ``audit_dir``."""
    audit_dir = Path(audit_dir)
    audit_dir.mkdir(parents=True, exist_ok=True)
    summary_text, rows = nested.summary(invocation)
    check_up_to_date(rows)
    environment_info = {
        "captured": "when the audit ran (the run's jobs record no package versions or commit)",
        "git": environment.git_state(environment.workflow_repo(invocation["snakefile"])),
        "packages": environment.package_versions(),
    }
    metas = [metadata.read(row["output_file"]) for row in rows]
    nodes = environment.slurm_nodes({slurm_job_id(meta) for _, meta in metas} - {None})
    records = [provenance(row, *meta, nodes, environment_info) for row, meta in zip(rows, metas)]
    write_records(records, audit_dir)
    write_text(audit_dir / "summary.tsv", summary_text)
    write_text(audit_dir / "rulegraph.mmd", nested.rulegraph(invocation))
    run_info = {
        "invocation": invocation,
        "directory": os.getcwd(),
        "audited_at": datetime.now(timezone.utc).isoformat(),
        "results": len(records),
        **environment_info,
    }
    write_text(audit_dir / "run.json", json.dumps(run_info, indent=1, sort_keys=True) + "\n")
    write_index(records, audit_dir / "index.csv")
    return records
