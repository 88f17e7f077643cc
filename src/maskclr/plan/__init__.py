"""The cost of a configuration's DAG on a cluster's GPUs (``python -m maskclr.plan``) and the
step costs it is projected from (``maskclr.plan.cost``, shared with benchmarks/gpu_check.py)."""
