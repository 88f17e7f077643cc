from maskclr.errors import run_cli
from maskclr.train.cli import main

run_cli(main)
