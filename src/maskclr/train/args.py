"""The command line of ``python -m maskclr.train`` (see ``maskclr.train.cli``)."""

import argparse

from maskclr.train import distributed


def add_resume_options(parser):
    """The work directory and time budget of a resumable job (``maskclr.train.fit``)."""
    parser.add_argument("--work-dir", required=True, help="resumable state (not a workflow output)")
    parser.add_argument("--time-budget-min", type=float, default=0, help="stop and save before this (0: none)")
    parser.add_argument(
        "--time-margin-min",
        type=float,
        default=5,
        help="stop this long before the budget ends (at most half the budget)",
    )


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m maskclr.train", description="one training stage of one model")
    parser.add_argument("--data", required=True, help="preprocessed HDF5 (results/data/...)")
    parser.add_argument("--stage", choices=("stage1", "stage2"), required=True)
    parser.add_argument("--dataset", required=True, help="the dataset's name (recorded, with the split and method)")
    parser.add_argument("--split", required=True, help="the evaluation protocol the data is split by")
    parser.add_argument("--method", required=True, help="the method's name: stage1 for stage 1, else a stage-2 method")
    parser.add_argument("--backbone", required=True)
    parser.add_argument("--backbone-json", required=True, help="backbone size arguments")
    parser.add_argument("--schedule-json", required=True, help="optimisation settings (Schedule)")
    parser.add_argument("--method-json", help="stage 2: pathways, masking and loss weights (Method)")
    parser.add_argument("--init", help="stage 2: the stage-1 model.pt to start from")
    parser.add_argument("--pretrained", help="stage 1, DSTFormer: a MotionBERT checkpoint to start from")
    parser.add_argument("--pretrain", help="stage 1: a python -m maskclr.pretrain checkpoint to start from")
    parser.add_argument("--pretrain-name", help="with --pretrain: its pretraining entry's name (recorded)")
    parser.add_argument("--out-model", required=True)
    parser.add_argument("--out-metrics", required=True)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads per process")
    parser.add_argument(
        "--device",
        choices=distributed.DEVICES,
        default="auto",
        help="cuda: stop if no GPU is usable; auto: the GPU if there is one",
    )
    add_resume_options(parser)
    args = parser.parse_args(argv)
    if (args.stage == "stage1") != (args.method == "stage1"):
        parser.error(f"--method {args.method}: stage1 names stage 1 and only stage 1 (--stage {args.stage})")
    if args.pretrain and args.stage == "stage2":
        parser.error("--pretrain: stage 1 only (stage 2 continues its --init model, which records its pretraining)")
    if args.pretrain and args.pretrained:
        parser.error("--pretrain and --pretrained: stage 1 starts from one checkpoint, not two")
    if bool(args.pretrain) != bool(args.pretrain_name):
        parser.error("--pretrain and --pretrain-name: each needs the other (the checkpoint and its entry's name)")
    if args.pretrain_name == "none":
        parser.error("--pretrain-name none: 'none' is what a model without pretraining records; name the entry")
    return args
