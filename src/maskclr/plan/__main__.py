"""``python -m maskclr.plan``: projected GPU-hours and wall time of a configuration (see ``project``)."""

from maskclr.errors import run_cli
from maskclr.plan.project import main

run_cli(main)
