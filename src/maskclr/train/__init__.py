"""Two-stage MaskCLR training: ``python -m maskclr.train`` (see ``maskclr.train.cli``)."""
