"""The audit package without a workflow run: metadata paths, hashes, verification of records."""

import json
import os
from types import SimpleNamespace

import pytest
from snakemake.persistence.file import FilePersistence

from conftest import run_module
from maskclr.audit import environment, metadata, nested, record, verify
from maskclr.errors import InputError
from maskclr.fileio import sha256


@pytest.mark.parametrize("output, max_len", [("results/models/a/model.pt", 255), ("results/" + "x" * 80, 20)])
def test_metadata_path_is_snakemakes(tmp_path, output, max_len):
    persistence = SimpleNamespace(_fetch_max_len=lambda subject: max_len)
    expected = FilePersistence._record_path(persistence, str(tmp_path), output)
    assert str(metadata.record_path(output, tmp_path, max_len)) == expected


def test_missing_metadata_names_the_output(tmp_path):
    with pytest.raises(InputError, match="no Snakemake metadata for results/x.csv"):
        metadata.read("results/x.csv", tmp_path)


def test_code_is_read_from_the_code_param():
    code = {"maskclr/errors.py": "a" * 64, "maskclr/fileio.py": "b" * 64}
    # as Snakemake records params: the repr of each value, sorted, without names
    recorded = sorted(repr(v) for v in ("{}", json.dumps({"maskclr code": code}, sort_keys=True), 3, '{"seed": 1}'))
    config, files = record.split_params(recorded)
    assert files == code and config == sorted(repr(v) for v in ("{}", 3, '{"seed": 1}'))
    assert record.split_params(["'x'", "[1, 2]"]) == (["'x'", "[1, 2]"], {})
    assert record.code_hash(code) == record.code_hash(dict(reversed(code.items())))
    assert record.code_hash(code) != record.code_hash({**code, "maskclr/errors.py": "c" * 64})


def test_stale_run_is_not_recorded():
    rows = [
        {"output_file": "a.csv", "status": "ok", "plan": "no update"},
        {"output_file": "b.csv", "status": "params changed", "plan": "update pending"},
    ]
    with pytest.raises(InputError, match=r"not up to date.*b\.csv \(params changed, update pending\)") as err:
        record.check_up_to_date(rows)
    assert "a.csv" not in str(err.value)


def test_hosts_say_where_they_come_from():
    assert environment.host_of(None, {})["source"].startswith("local job")
    assert environment.host_of("42", {"42": "gpu-node-3"}) == {
        "name": "gpu-node-3",
        "source": "sacct NodeList of the SLURM job",
    }
    assert environment.host_of("43", {"42": "gpu-node-3"})["name"] is None


def test_nested_call_is_made_as_the_run_was():
    invocation = {
        "snakefile": "/repo/Snakefile",
        "configfiles": ["/cfg/a.yaml", "/cfg/b.yaml"],
        "config_args": ["seed=1"],
    }
    cmd = nested.command(invocation, "--summary")
    assert cmd[3] == "all" and cmd[cmd.index("--snakefile") + 1] == "/repo/Snakefile"
    assert cmd[cmd.index("--directory") + 1] == os.getcwd() and "--nolock" in cmd
    assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--configfile"] == ["/cfg/a.yaml", "/cfg/b.yaml"]
    assert cmd[-2:] == ["--config", "seed=1"]  # last: --config takes every value after it


def a_record(tmp_path):
    """A record of result.csv made from data.h5 by maskclr/code.py, as `record` writes it."""
    (tmp_path / "maskclr").mkdir()
    for name in ("result.csv", "data.h5", "maskclr/code.py"):
        (tmp_path / name).write_text(name)
    return {
        "result": "result.csv",
        "sha256": sha256(tmp_path / "result.csv"),
        "inputs": {"data.h5": sha256(tmp_path / "data.h5")},
        "code": {"files": {"maskclr/code.py": sha256(tmp_path / "maskclr" / "code.py")}},
    }


@pytest.mark.parametrize(
    "change, expected",
    [
        (None, []),
        ("result.csv", ["result changed"]),
        ("data.h5", ["input changed: data.h5"]),
        ("maskclr/code.py", ["code changed: maskclr/code.py"]),
    ],
)
def test_file_changes_name_what_changed(tmp_path, monkeypatch, change, expected):
    monkeypatch.chdir(tmp_path)
    rec = a_record(tmp_path)
    record.file_sha256.cache_clear()
    if change:
        (tmp_path / change).write_text("edited")
    assert verify.file_changes(rec, src=tmp_path) == expected


def test_missing_files_are_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rec = a_record(tmp_path)
    record.file_sha256.cache_clear()
    (tmp_path / "result.csv").unlink()
    (tmp_path / "data.h5").unlink()
    (tmp_path / "maskclr" / "code.py").unlink()
    assert verify.file_changes(rec, src=tmp_path) == [
        "result missing",
        "code changed: maskclr/code.py (missing)",
        "input changed: data.h5 (missing)",
    ]


def test_verify_without_audit_dir_exits_2(tmp_path):
    done = run_module("maskclr.audit", "verify", "--audit-dir", tmp_path / "audit", cwd=tmp_path)
    assert done.returncode == 2
    assert f"{tmp_path / 'audit' / 'run.json'}: no audit record" in done.stderr


def test_verify_without_records_exits_2(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({}))
    done = run_module("maskclr.audit", "verify", "--audit-dir", tmp_path, cwd=tmp_path)
    assert done.returncode == 2 and "no provenance records" in done.stderr


def test_record_rejects_a_bad_invocation(tmp_path):
    done = run_module("maskclr.audit", "record", "--invocation-json", '{"snakefile": "S"}', cwd=tmp_path)
    assert done.returncode == 2 and "missing keys ['configfiles', 'config_args']" in done.stderr
