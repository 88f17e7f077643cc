"""Code inputs follow the code: every job's declared code (its ``code`` param, computed from the
package's import graph by workflow/rules/code.smk) is exactly the set of package modules the job
imports, and the Snakemake process itself imports neither the package nor numpy.

Declared code is read from the DAG Snakemake builds (the tiny config with the audit, and the
paper configuration: real datasets, video estimators, all three backbones), so what is checked
is what Snakemake compares between runs.
"""

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ENV, REPO, tiny_config, workdir_with

pytestmark = pytest.mark.workflow

SRC = REPO / "src"

# Runs the Snakemake command line with `--dag` replaced by a dump of every job of the DAG: its
# rule, shell command, wildcards and string params (what Snakemake records for it).
DAG_DUMP = r"""
import json, sys
from snakemake.cli import main
from snakemake.workflow import Workflow

def dump(self):
    self._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
    self._build_dag()
    jobs = [
        {
            "rule": job.rule.name,
            "shellcmd": job.shellcmd or "",
            "wildcards": dict(job.wildcards.items()),
            "params": {k: v for k, v in job.params.items() if isinstance(v, str)},
        }
        for job in self.dag.jobs
    ]
    print("JOBS " + json.dumps(jobs))

Workflow.printdag = dump
main(sys.argv[1:])
"""

# `python -m ENTRY --help` as the job runs it (all its top-level imports), then the import the
# job makes by name (a backbone's module; an estimator built from its spec, which imports its
# adapter and may then fail here for want of weights); prints the package files now loaded.
PROBE = r"""
import importlib, importlib.util, json, runpy, sys
entry, backbone, estimator = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [entry, "--help"]
try:
    runpy.run_module(entry, run_name="__main__")
except SystemExit:
    pass
if backbone:
    from maskclr.models import BACKBONES
    importlib.import_module(BACKBONES[backbone].split(":")[0])
if estimator:
    from maskclr.poses.base import build_estimator
    from maskclr.poses.extract import ESTIMATORS
    try:
        build_estimator(json.loads(estimator), ESTIMATORS)
    except Exception:
        pass
main = entry + ".__main__" if importlib.util.find_spec(entry).submodule_search_locations else entry
files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
print("FILES " + json.dumps(sorted({f for f in files if f} | {importlib.util.find_spec(main).origin})))
"""


def dag_jobs(workdir, *args):
    cmd = [
        sys.executable,
        "-c",
        DAG_DUMP,
        "--snakefile",
        REPO / "Snakefile",
        "--directory",
        workdir,
        "--dag",
        "dot",
        *args,
    ]
    done = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=600, env=ENV)
    lines = [line for line in done.stdout.splitlines() if line.startswith("JOBS ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads(lines[0][5:])


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    """Every job of the tiny run (with its audit) and of the paper configuration."""
    tiny = workdir_with(tmp_path_factory.mktemp("tiny"), tiny_config())
    paper = tmp_path_factory.mktemp("paper")
    shutil.copy(REPO / "config.yaml", paper)
    return dag_jobs(tiny, "audit") + dag_jobs(paper, "--configfile", REPO / "workflow" / "configs" / "paper.yaml")


def declared(job):
    """{package path: sha256} of a job's code param."""
    return json.loads(job["params"]["code"])["maskclr code"]


def imported(entry, backbone="", estimator=""):
    """Package paths (maskclr/…) of the modules a job of ``entry`` imports."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, entry, backbone, estimator],
        capture_output=True,
        text=True,
        timeout=300,
        env={**ENV, "PYTHONPATH": str(SRC)},
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("FILES ")]
    assert lines, done.stdout[-2000:] + done.stderr[-2000:]
    files = [p for p in json.loads(lines[0][6:]) if p.startswith(str(SRC / "maskclr"))]
    return {str(Path(p).relative_to(SRC)) for p in files}


# A download is defined by its pinned checksum, not by the code that fetched it: editing the
# fetcher must not re-download (and so rerun) everything.
WITHOUT_CODE = {"fetch"}


def test_every_package_job_declares_exactly_the_code_it_imports(jobs):
    runs_package = [j for j in jobs if re.search(r"-m maskclr\b", j["shellcmd"])]
    rules = {j["rule"] for j in runs_package}
    assert rules >= {"train_stage1", "train_stage2", "evaluate", "extract_poses", "import_release", "audit"}
    assert {r for r in rules if all("code" not in j["params"] for j in jobs if j["rule"] == r)} == WITHOUT_CODE
    cases = {}
    for job in runs_package:
        if job["rule"] in WITHOUT_CODE:
            continue
        entry = re.search(r"-m (maskclr[\w.]*)", job["shellcmd"])[1]
        backbone = job["wildcards"].get("backbone", "") if job["rule"] != "extract_poses" else ""
        estimator = job["params"]["spec"] if job["rule"] == "extract_poses" else ""
        code = frozenset(declared(job))
        # one probe per distinct job kind; the same kind always declares the same code
        assert cases.setdefault((entry, backbone, estimator), code) == code, job["rule"]
    kinds = {(entry, backbone, json.loads(est or "{}").get("type")) for entry, backbone, est in cases}
    assert {("maskclr.poses.extract", "", t) for t in ("simulated", "vitpose", "openpifpaf")} <= kinds
    assert {("maskclr.train", b, None) for b in ("dstformer", "sttformer", "transformer")} <= kinds
    for (entry, backbone, estimator), code in cases.items():
        python = {p for p in code if p.endswith(".py")}
        # Exact: the package has no import inside a function, so nothing declared is left unloaded
        # by --help (a lazy import would make declared ⊇ imported, still declared).
        assert python == imported(entry, backbone, estimator), (entry, backbone, estimator)


def test_code_digests_are_the_files_sha256(jobs):
    code = declared(next(j for j in jobs if j["rule"] == "activation_figure"))
    assert code == {p: hashlib.sha256((SRC / p).read_bytes()).hexdigest() for p in code}
    # the figure names the classes from the shipped list: package data read by an imported module
    assert "maskclr/data/ntu120_classes.txt" in code and "maskclr/data/synthetic.py" in code


def test_backbones_and_estimators_declare_only_their_own_modules(jobs):
    train = {j["wildcards"]["backbone"]: set(declared(j)) for j in jobs if j["rule"] == "train_stage1"}
    # (every training holds dstformer.py: the trainer imports its MotionBERT checkpoint loader)
    own = {"sttformer": "maskclr/models/sttformer.py", "transformer": "maskclr/models/transformer.py"}
    for backbone, module in own.items():
        assert module in train[backbone] and all(module not in train[b] for b in train if b != backbone)
    extract = {json.loads(j["params"]["spec"])["type"]: set(declared(j)) for j in jobs if j["rule"] == "extract_poses"}
    assert "maskclr/poses/topdown.py" in extract["vitpose"]
    assert "maskclr/poses/topdown.py" not in extract["simulated"] | extract["openpifpaf"]
    assert "maskclr/poses/openpifpaf_adapter.py" in extract["openpifpaf"]


# Records every import statement executed by the workflow's own code (the Snakefile and the .smk
# files) and, at exit, whether the package was loaded at all.
NO_IMPORTS = r"""
import atexit, builtins, json, os, sys
seen = []
real_import = builtins.__import__

def watched(name, globals=None, locals=None, fromlist=(), level=0):
    caller = sys._getframe(1) if sys._getframe().f_back else None
    if caller and caller.f_code.co_filename.endswith((".smk", "Snakefile")):
        seen.append(name)
    return real_import(name, globals, locals, fromlist, level)

builtins.__import__ = watched
atexit.register(lambda: open(os.environ["IMPORTS_LOG"], "w").write(
    json.dumps({"workflow": seen, "maskclr_loaded": "maskclr" in sys.modules})))
"""


def test_snakemake_imports_neither_the_package_nor_numpy(tmp_path):
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "sitecustomize.py").write_text(NO_IMPORTS)
    (tmp_path / "run").mkdir()
    workdir = workdir_with(tmp_path / "run", tiny_config())
    log = tmp_path / "imports.json"
    env = {**ENV, "PYTHONPATH": str(probe), "IMPORTS_LOG": str(log)}
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", REPO / "Snakefile", "--directory", workdir, "-n", "audit"]
    done = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    imports = json.loads(log.read_text())
    assert "yaml" in imports["workflow"]  # the probe sees the workflow's imports
    heavy = {name for name in imports["workflow"] if name.split(".")[0] in ("maskclr", "numpy", "pandas", "torch")}
    assert not heavy and not imports["maskclr_loaded"]
