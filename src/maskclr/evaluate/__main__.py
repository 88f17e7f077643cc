from maskclr.errors import run_cli
from maskclr.evaluate.run import main

run_cli(main)
