"""The Makefile's housekeeping targets: `make profiles` never replaces a user's own profile,
`make clean` says what it deletes and keeps the conda environments, the readme targets write
sections README.md has."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def make(*args, cwd=REPO, home=None):
    env = {**os.environ, "HOME": str(home)} if home else os.environ
    return subprocess.run(
        ["make", "-s", "-f", str(REPO / "Makefile"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def test_profiles_link_once_and_leave_a_users_own_profile_alone(tmp_path):
    profiles = tmp_path / ".config" / "snakemake"
    first = make("profiles", home=tmp_path)
    assert first.returncode == 0, first.stderr
    for name in ("slurm", "local"):
        assert (profiles / name).resolve() == REPO / "workflow" / "profiles" / name
    assert make("profiles", home=tmp_path).returncode == 0  # again: nothing to change

    (profiles / "slurm").unlink()
    (profiles / "slurm").mkdir()
    (profiles / "slurm" / "config.v8+.yaml").write_text("executor: slurm\n")  # the user's own
    refused = make("profiles", home=tmp_path)
    assert refused.returncode != 0
    assert "is not this project's profile: left as it is" in refused.stderr
    assert "--workflow-profile" in refused.stderr
    assert (profiles / "slurm" / "config.v8+.yaml").read_text() == "executor: slurm\n"
    assert (profiles / "local").is_symlink()  # the other one is still linked


def test_clean_says_what_it_deletes_and_keeps_the_conda_environments(tmp_path):
    for path in (
        "results/work/model/state.pt",
        "results/audit/index.csv",
        ".snakemake/metadata/x",
        ".snakemake/conda/abc123/bin/python",
        "resources/downloads/ntu60_hrnet.pkl",
        ".venv/bin/python",
    ):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    result = make("clean", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for said in ("results/", "resumable state", "job metadata", "Keeping .venv", ".snakemake/conda/"):
        assert said in result.stdout
    left = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert left == {".snakemake/conda/abc123/bin/python", "resources/downloads/ntu60_hrnet.pkl", ".venv/bin/python"}
    assert make("clean", cwd=tmp_path).returncode == 0  # nothing left to delete: still fine


@pytest.mark.parametrize("args", [["readme"], ["readme-study"], ["readme-study", "STUDY_SPLIT=xview"]])
def test_readme_targets_write_sections_the_readme_has(args):
    """A section name without its markers in README.md would fail the target only after the run
    it reports (an hour for the study)."""
    result = make("-n", *args)
    assert result.returncode == 0, result.stderr
    names = re.findall(r"--section (\w+)=", result.stdout)
    assert names, result.stdout
    readme = (REPO / "README.md").read_text()
    for name in names:
        assert f"<!-- {name}:start -->" in readme and f"<!-- {name}:end -->" in readme, name


@pytest.mark.parametrize(
    ("models", "split", "refused"),
    [
        (["XSub"], "xsub", False),
        (["XSub"], "xview", True),  # after the xsub run: xsub numbers under xview
        (["XSub", "XView"], "xsub", True),  # the whole study's table: xview numbers under xsub
        ([], "xsub", True),
    ],
)
def test_readme_study_takes_a_table_of_its_split_alone(tmp_path, monkeypatch, models, split, refused):
    monkeypatch.setenv("PATH", os.pathsep.join([os.path.dirname(sys.executable), os.environ["PATH"]]))
    for path in ("requirements.txt", "pyproject.toml", ".venv/.installed"):  # the stamp last: current
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    table = tmp_path / "results" / "tables" / "robustness_by_model.md"
    table.parent.mkdir(parents=True)
    table.write_text("".join(f"| synth {name}, DSTFormer, trained on MQ | baseline |\n" for name in models))
    section = f"<!-- study_by_model_{split}:start -->\n{{}}\n<!-- study_by_model_{split}:end -->\n"
    (tmp_path / "README.md").write_text(section.format("Not run yet."))
    result = make("readme-study", f"STUDY_SPLIT={split}", cwd=tmp_path)
    message = f"the {split} section takes {split} alone: run workflow/configs/synth-study-2d-{split}.yaml first"
    assert (message in result.stderr) == refused and (result.returncode != 0) == refused, result.stderr
    filled = section.format(table.read_text().strip())
    assert (tmp_path / "README.md").read_text() == (section.format("Not run yet.") if refused else filled)
