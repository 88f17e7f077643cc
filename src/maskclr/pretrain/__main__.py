from maskclr.errors import run_cli
from maskclr.pretrain.run import main

run_cli(main)
