"""``python -m maskclr.plan``: the GPU-hours and wall time of a configuration's DAG, per rule.

    python -m maskclr.plan --configfile workflow/configs/paper.yaml [--measured gpu_check.json]

Reads the config as the workflow does (config.yaml, each --configfile merged over it) and the
SLURM profile (GPUs and ``runtime`` of each rule). For every GPU job (pose extraction shards,
self-supervised pretrainings, both training stages, evaluations) it projects the wall time from
the dataset sizes, epochs, batch sizes and the seconds of one step, frame or preprocessed
sample. Those seconds are *measured* when a ``benchmarks/gpu_check.py`` report measured the
same thing (same backbone sizes, input shape, head, stage, precision and batch), else
*estimated* from the FLOPs torch counts for the model at an assumed fraction (--mfu) of a GPU's
peak (--gpu; default the paper's A100), or *assumed* (named constants below). Every figure is
labelled with the kinds it rests on.

Modelled as the workflow runs it (workflow/rules/common.smk): the models of ``experiment_models``,
each with train.schedule and its experiment's recipe, its dataset's backbone sizes and input
(MotionBERT's 2D pipeline: preprocess.n_frames × 17 joints × preprocess.max_persons; native 3D
NTU-25: preprocess_3d.n_frames × 25 joints × 2 persons) and its recipe's head. A training job runs
``batch_size / gpus`` samples per process and step, then evaluates the test split on rank 0
alone (bf16, batch 32); a pretraining (``maskclr.pretrain``, as a training: ``batch_size / gpus``
samples per process and step, bf16) runs its epochs over the N·M person-sequences of the training
split's batches, and the stage 1 of its models waits for it; ``maskclr.evaluate`` preprocesses
and forwards the test split once per grid point of the dataset's tiers and grid (native 3D: the
one kinect tier, robustness_3d; fp32, batch 256); a pose shard runs the detector and the pose
network (two persons, flip test) on every frame. Start-up, checkpointing, data loading and DDP's
gradient all-reduce are left out. CPU rules (import, preprocessing, tables) are not counted: they
take minutes.
"""

import argparse
import copy
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import yaml

from maskclr.data import native3d
from maskclr.errors import InputError
from maskclr.plan.cost import (
    GPU_PEAKS,
    JOINTS,
    NATIVE_JOINTS,
    PAPER_HEAD,
    PERSONS,
    STAGES,
    count_flops,
    gpu_peak,
    paper_model,
    pretrain_step_flops,
    pretrainer,
    step_flops,
)
from maskclr.poses import hrnet, vitpose
from maskclr.poses.topdown import INPUT_SIZE
from maskclr.train.fit import tested
from maskclr.train.settings import Schedule

REPO = Path(__file__).resolve().parents[3]
PROFILE = REPO / "workflow" / "profiles" / "slurm" / "config.v8+.yaml"
GPU_RULES = ("extract_poses", "pretrain", "train_stage1", "train_stage2", "evaluate")
RESUMABLE = ("pretrain", "train_stage1", "train_stage2")  # save, exit and resume across retries
TRAIN_MARGIN_MIN = 5  # the trainer stops this long before its runtime (--time-margin-min)
EVAL_BATCH = 256  # maskclr.evaluate.run's batch on a GPU
TEST_BATCH = 32  # the trainer's per-epoch test loader: max(batch per process, 32)
# The datasets of native 3D NTU-25 skeletons (workflow/rules/common.smk's NATIVE_3D): their one
# tier, kinect, is imported; their HDF5 holds native3d.PERSONS person slots.
NATIVE_3D = ("synth_3d", "ntu60_3d", "ntu120_3d")
# What benchmarks/gpu_check.py times where its rows do not say: the 2D input and the paper's head.
MEASURED_DEFAULTS = {"persons": PERSONS, "joints": JOINTS, "head": PAPER_HEAD}

# Assumptions, each printed with the table where it is used:
# Kinetics-400 has no expected sizes in the config or docs/method.md: its published ~246k training
# and ~20k validation clips, less the YouTube videos no longer available.
ASSUMED_SIZES = {"k400": {"main_train": 240_000, "main_val": 19_800}}
# NTU RGB+D (Shahroudy et al., CVPR 2016): 56,880 videos, about 4 million frames.
FRAMES_PER_VIDEO = 71
# torchvision's Faster R-CNN R50-FPN: 134.38 G multiply-adds per image at its 800-px input
# (its model card), 2 FLOPs each; it runs in fp32 as the estimators do.
DETECTOR_FLOPS = 2 * 134.38e9
# benchmarks/preprocess.py's target on one core: test-time preprocessing to T = 243.
PREPROCESS_PER_S = 2000
POSE_NETWORKS = {"vitpose": vitpose.create_model, "hrnet": hrnet.create_model}


@dataclass(frozen=True)
class Cost:
    """Seconds, and the kinds of figure they rest on (measured, estimated, assumed)."""

    seconds: float
    kinds: frozenset

    def __add__(self, other):
        return Cost(self.seconds + other.seconds, self.kinds | other.kinds)

    def times(self, count):
        return Cost(self.seconds * count, self.kinds)


ZERO = Cost(0.0, frozenset())


def cost(seconds, kind):
    return Cost(seconds, frozenset([kind]))


@dataclass
class Job:
    rule: str
    key: tuple  # unique: (rule, wildcards...)
    gpus: int
    cost: Cost
    needs: tuple = ()  # keys of the jobs it waits for


@dataclass(frozen=True)
class Encoder:
    """A backbone at its dataset's sizes and one sample of its input: (M, T, J, 3)."""

    backbone: str
    sizes: str  # canonical JSON of its size arguments
    persons: int
    frames: int
    joints: int


@dataclass(frozen=True)
class Classifier:
    """A trained model: the encoder with a recipe's head. Its FLOPs are counted at 60 classes
    whatever the dataset's: they change the last Linear only (below 1e-4 of a step)."""

    encoder: Encoder
    head: str  # canonical JSON of head, head_hidden, head_dropout

    def build(self):
        e = self.encoder
        return paper_model(e.backbone, json.loads(e.sizes), joints=e.joints, head=json.loads(self.head))


def canonical(value):
    return json.dumps(value, sort_keys=True)


@dataclass
class Timings:
    """Seconds of a step, a frame or a preprocessed sample: measured (a gpu_check.json), else
    estimated from counted FLOPs at ``mfu`` of the ``gpu``'s peak, else assumed."""

    measured: dict
    gpu: str
    mfu: float
    flops: dict = field(default_factory=dict)  # (model, step kind, batch) → FLOPs of one step
    models: dict = field(default_factory=dict)  # Classifier → the model whose FLOPs are counted

    def section(self, name):
        return self.measured.get("sections", {}).get(name, {})

    def peak(self, precision):
        """FLOP/s of the assumed GPU at the assumed MFU."""
        _, bf16, fp32 = gpu_peak(self.gpu)
        return self.mfu * (bf16 if precision == "bf16" else fp32) * 1e12

    def step(self, model, stage, precision, batch):
        """One training step (stage1, stage2) or eval forward of ``batch`` samples of a Classifier."""
        e = model.encoder
        wanted = {
            "backbone": e.backbone,
            "sizes": json.loads(e.sizes),
            "frames": e.frames,
            "persons": e.persons,
            "joints": e.joints,
            "head": json.loads(model.head),
            "stage": stage,
            "precision": precision,
            "batch": batch,
        }
        for row in self.section("steps").get("rows", []):
            if "step_s" in row and all({**MEASURED_DEFAULTS, **row}.get(k) == v for k, v in wanted.items()):
                return cost(row["step_s"], "measured")
        key = (model, stage, batch)
        if model not in self.models:
            self.models[model] = model.build()
        if key not in self.flops:
            self.flops[key] = step_flops(
                self.models[model], STAGES[stage], batch, e.frames, stage != "eval", e.joints, e.persons
            )
        return cost(self.flops[key] / self.peak(precision), "estimated")

    def pretrain_step(self, encoder, entry, sequences):
        """One ``maskclr.pretrain`` step (bf16 autocast on a GPU, as training) of the pretraining
        ``entry`` (its method and overrides) on ``sequences`` person-sequences of one process."""
        key = (encoder, canonical(entry), sequences)
        if key not in self.flops:
            model = pretrainer(encoder.backbone, json.loads(encoder.sizes), entry)
            self.flops[key] = pretrain_step_flops(model, sequences, encoder.frames, encoder.joints)
        return cost(self.flops[key] / self.peak("bf16"), "estimated")

    def preprocess(self, frames, native):
        """Test-time preprocessing of one sample to ``frames`` frames (CPU). The GPU check times
        the 2D pipeline only: the native 3D one is assumed as fast."""
        found = self.section("evaluate")
        if not native and found.get("preprocess_frames") == frames and found.get("preprocess_samples_per_s"):
            return cost(1 / found["preprocess_samples_per_s"], "measured")
        return cost(1 / PREPROCESS_PER_S, "assumed")

    def frame(self, spec):
        """Detector + pose network (2 persons, flip test) on one 1080p frame of an estimator spec.

        An estimator the check does not run (OpenPifPaf) is assumed as fast as ViTPose-B's pipeline.
        """
        if spec["type"] not in POSE_NETWORKS:
            return Cost(self.frame({"type": "vitpose", "variant": "b"}).seconds, frozenset(["assumed"]))
        return self.pose(spec["type"], spec.get("variant", "b")) + self.detector()

    def pose(self, kind, variant):
        for row in self.section("poses").get("estimators", []):
            if row["estimator"] == f"{kind}-{variant}" and not row["arch"] and row["frame_shape"] == [1080, 1920]:
                return cost(1 / row["frames_per_s"], "measured")
        network = POSE_NETWORKS[kind](variant).to("meta").eval()
        with torch.no_grad():
            flops = count_flops(lambda: network(torch.zeros(1, 3, *INPUT_SIZE, device="meta")))
        return cost(flops * PERSONS * 2 / self.peak("fp32"), "estimated")  # ×2: the flipped crop

    def detector(self):
        found = self.section("poses").get("detector", {})
        if found.get("frames_per_s") and found["frame_shape"] == [1080, 1920] and not found["input_size"]:
            return cost(1 / found["frames_per_s"], "measured")
        return cost(DETECTOR_FLOPS / self.peak("fp32"), "estimated")


def merge(base, update):
    """``update`` merged into a copy of ``base``, recursively for mappings (as Snakemake does)."""
    merged = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = merge(merged[key], value)
        merged[key] = value
    return merged


def load_yaml(path):
    try:
        return yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"{path}: not a readable YAML file: {err}") from err


def load_config(configfiles):
    """config.yaml with ``configfiles`` merged over it, validated and completed with the schema's
    defaults, as the workflow sees it."""
    from snakemake.utils import validate  # the workflow's own validation (slow to import)

    config = load_yaml(REPO / "config.yaml")
    for path in configfiles:
        config = merge(config, load_yaml(path))
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config


def rule_resources(profile):
    """{rule: {"gpu", "runtime"}} of the GPU rules under a Snakemake profile (rules ask for 1 GPU)."""
    default = profile.get("default-resources", {})
    rules = profile.get("set-resources", {})
    return {
        rule: {
            "gpu": rules.get(rule, {}).get("gpu", 1),
            "runtime": rules.get(rule, {}).get("runtime", default.get("runtime", 60)),
        }
        for rule in GPU_RULES
    }


def split_sizes(config, dataset, split):
    """(training, test samples, Cost of the kinds they rest on): expected sizes, else assumed."""
    sizes, basis = config["datasets"][dataset].get("expected_sizes") or {}, ZERO
    if f"{split}_train" not in sizes:
        sizes, basis = ASSUMED_SIZES.get(dataset, {}), cost(0, "assumed")
    if f"{split}_train" not in sizes:
        raise InputError(f"datasets.{dataset}.expected_sizes: no '{split}_train' and '{split}_val' sizes to plan with")
    return sizes[f"{split}_train"], sizes[f"{split}_val"], basis


def datasets(config):
    return sorted({e["dataset"] for e in config["experiments"]} | {config["paper"]["dataset"]})


def run_name(pretrain, run):
    """A model's run folder: stage1 or a method, after its pretraining if any (common.smk's run_name)."""
    return f"{pretrain}+{run}" if pretrain else run


def run_parts(run):
    """(pretraining or None, stage1 or method) of a run folder name."""
    pretrain, _, base = run.rpartition("+")
    return pretrain or None, base


def experiment_models(config):
    """{(dataset, split, backbone, run, seed): recipe name or None} of every model, stage 1
    included, as workflow/rules/common.smk's experiment_models lists them."""
    seed, models = config["train"]["schedule"]["seed"], {}
    for i, e in enumerate(config["experiments"]):
        for split in e["splits"]:
            for backbone in e["backbones"]:
                for s in e.get("seeds", [seed]):
                    for base in ["stage1", *e["methods"]]:
                        model = (e["dataset"], split, backbone, run_name(e.get("pretrain"), base), s)
                        if models.setdefault(model, e.get("recipe")) != e.get("recipe"):
                            raise InputError(
                                f"experiments[{i}].recipe: {e.get('recipe')} trains {'/'.join(map(str, model))}, "
                                f"which another experiment trains with recipe {models[model]}"
                            )
    return models


def pretrained_models(models):
    """(dataset, split, backbone, pretraining, seed) of every pretraining a model starts from."""
    return sorted({(d, s, b, run_parts(run)[0], seed) for d, s, b, run, seed in models if "+" in run})


def recipe_schedule(config, recipe):
    """The Schedule of a model: train.schedule with its recipe's keys (common.smk's ``recipe``).
    Every key of both is a Schedule field; the ones a stage does not read are left as given."""
    return Schedule(**{**config["train"]["schedule"], **config["recipes"].get(recipe, {})})


def encoder(config, dataset, backbone):
    """The backbone at the dataset's sizes (``backbones`` with ``datasets.<d>.backbones``) and
    the shape of one of the dataset's samples."""
    native = dataset in NATIVE_3D
    overrides = config["datasets"][dataset].get("backbones", {}).get(backbone, {})
    return Encoder(
        backbone,
        canonical({**config["backbones"][backbone], **overrides}),
        native3d.PERSONS if native else config["preprocess"]["max_persons"],
        config["preprocess_3d" if native else "preprocess"]["n_frames"],
        NATIVE_JOINTS if native else JOINTS,
    )


def classifier(config, dataset, backbone, schedule):
    head = canonical({key: getattr(schedule, key) for key in PAPER_HEAD})
    return Classifier(encoder(config, dataset, backbone), head)


def train_key(model):
    return ("train_stage1" if run_parts(model[3])[1] == "stage1" else "train_stage2", *model)


def pretrain_key(pretrained):
    return ("pretrain", *pretrained)


def training_job(config, model, recipe, resources, timings):
    """One training stage: epochs × steps of batch/gpus samples, plus the rank-0 test pass of
    every tested epoch (``maskclr.train.fit.tested``: every ``test_every``-th and the last)."""
    dataset, split, backbone, run, seed = model
    (pretrain, base), rule = run_parts(run), train_key(model)[0]
    schedule = recipe_schedule(config, recipe)
    gpus = resources[rule]["gpu"]
    local = schedule.batch_size // gpus
    n_train, n_test, sizes_kind = split_sizes(config, dataset, split)
    net = classifier(config, dataset, backbone, schedule)
    masked = base != "stage1" and config["methods"][base]["masking"] != "none"
    step = timings.step(net, "stage2" if masked else "stage1", "bf16", local)
    test = timings.step(net, "eval", "bf16", max(local, TEST_BATCH))
    if base == "stage1":
        epochs = range(schedule.epochs_stage1)
        needs = (pretrain_key((dataset, split, backbone, pretrain, seed)),) if pretrain else ()
    else:
        epochs = range(schedule.epochs_stage1, schedule.epochs_stage1 + schedule.epochs_stage2)
        needs = (train_key((dataset, split, backbone, run_name(pretrain, "stage1"), seed)),)
    tests = sum(tested(epoch, epochs, schedule.test_every) for epoch in epochs)
    total = step.times(n_train // gpus // local * len(epochs)) + test.times(
        math.ceil(n_test / max(local, TEST_BATCH)) * tests
    )
    return Job(rule, train_key(model), gpus, total + sizes_kind, needs)


def pretraining_job(config, pretrained, resources, timings):
    """One pretraining: epochs × steps of batch/gpus × M person-sequences per process (as training:
    each process's share of the split, its last batch dropped)."""
    dataset, split, backbone, pretrain, seed = pretrained
    entry = config["pretraining"][pretrain]
    schedule = entry["schedule"]
    gpus = resources["pretrain"]["gpu"]
    local = schedule["batch_size"] // gpus
    n_train, _, sizes_kind = split_sizes(config, dataset, split)
    net = encoder(config, dataset, backbone)
    method = {key: value for key, value in entry.items() if key != "schedule"}
    step = timings.pretrain_step(net, method, local * net.persons)
    total = step.times(n_train // gpus // local * schedule["epochs"])
    return Job("pretrain", pretrain_key(pretrained), gpus, total + sizes_kind)


def extraction_jobs(config, resources, timings, frames_per_video):
    """One job per shard of every tier a real estimator extracts from videos (native 3D datasets
    have none: their tier is imported)."""
    jobs = []
    for dataset in datasets(config):
        cfg = config["datasets"][dataset]
        if dataset in NATIVE_3D:
            continue
        first = cfg["splits"][0]
        n_train, n_test, sizes_kind = split_sizes(config, dataset, first)  # every video is in one of them
        for tier, spec in cfg["estimators"].items():
            if spec["type"] in ("release", "simulated"):
                continue
            shards = cfg.get("shards", 1)
            frames = (n_train + n_test) / shards * frames_per_video
            per_shard = timings.frame(spec).times(frames) + sizes_kind + cost(0, "assumed")  # frames per video
            jobs += [
                Job("extract_poses", ("extract_poses", dataset, tier, k), resources["extract_poses"]["gpu"], per_shard)
                for k in range(shards)
            ]
    return jobs


def evaluation_job(config, model, recipe, resources, timings, extraction):
    """maskclr.evaluate: preprocessing and a forward of the test split per grid point."""
    dataset, split, backbone, run, seed = model
    native = dataset in NATIVE_3D
    _, n_test, sizes_kind = split_sizes(config, dataset, split)
    tiers = 1 if native else len(config["datasets"][dataset]["estimators"])  # native 3D: kinect
    grid = dict(config["robustness_3d" if native else "robustness"])
    if run_parts(run)[1] == "stage1" and not grid.get("stage1_grid", True):  # common.smk's grid_json
        grid.update(noise_sigmas=[], parts=[], joint_fractions=[], frames_noise=None)
    noisy = 2 * sum(1 for sigma in grid["noise_sigmas"] if sigma)  # spatiotemporal and spatial
    per_tier = 1 + (grid["frames_noise"] is not None)  # clean, and frames_noise where the grid has it
    # per tier, the noise levels, parts, joint fractions, the activation pass
    forwards = per_tier * tiers + noisy + len(grid["parts"]) + len(grid["joint_fractions"]) + 1
    preprocessed = per_tier * tiers + noisy
    net = classifier(config, dataset, backbone, recipe_schedule(config, recipe))
    forward = timings.step(net, "eval", "fp32", EVAL_BATCH)
    preprocess = timings.preprocess(net.encoder.frames, native)
    total = forward.times(forwards * math.ceil(n_test / EVAL_BATCH)) + preprocess.times(preprocessed * n_test)
    needs = (train_key(model), *(job.key for job in extraction if job.key[1] == dataset))
    return Job("evaluate", ("evaluate", *model), resources["evaluate"]["gpu"], total + sizes_kind, needs)


def project(config, resources, timings, frames_per_video):
    """Every GPU job of the configuration, with its cost and prerequisites."""
    models = experiment_models(config)
    extraction = extraction_jobs(config, resources, timings, frames_per_video)
    return (
        extraction
        + [pretraining_job(config, p, resources, timings) for p in pretrained_models(models)]
        + [training_job(config, m, r, resources, timings) for m, r in sorted(models.items())]
        + [evaluation_job(config, m, r, resources, timings, extraction) for m, r in sorted(models.items())]
    )


def critical_path(jobs):
    """Seconds until the last job ends when every job starts as soon as its prerequisites end."""
    by_key, ends = {job.key: job for job in jobs}, {}

    def end(key):
        if key not in ends:
            job = by_key[key]
            ends[key] = max((end(k) for k in job.needs if k in by_key), default=0.0) + job.cost.seconds
        return ends[key]

    return max((end(key) for key in by_key), default=0.0)


def round_up(minutes, step=30):
    return int(math.ceil(minutes / step) * step)


def label(kinds):
    """'measured', 'estimated', 'measured + assumed', ...: what the figure rests on."""
    return " + ".join(k for k in ("measured", "estimated", "assumed") if k in kinds)


def summarise(jobs, resources, retries):
    """Per rule: jobs, GPUs per job, longest job, GPU-hours, runtimes; and the totals. ``retries``:
    the config's train.retries, the resubmissions of a resumable job."""
    rows = []
    for rule in GPU_RULES:
        mine = [job for job in jobs if job.rule == rule]
        if not mine:
            continue
        longest = max(job.cost.seconds for job in mine) / 60
        runtime = resources[rule]["runtime"]
        margin = min(TRAIN_MARGIN_MIN, runtime / 2) if rule in RESUMABLE else 0
        rows.append(
            {
                "rule": rule,
                "jobs": len(mine),
                "gpus_per_job": resources[rule]["gpu"],
                "longest_job_h": longest / 60,
                "gpu_hours": sum(j.gpus * j.cost.seconds for j in mine) / 3600,
                "runtime_profile_min": runtime,
                "attempts": math.ceil(longest / (runtime - margin)),
                "max_attempts": 1 + retries if rule in RESUMABLE else 1,
                # one attempt with 20 % headroom and 10 minutes for start-up and checkpoints
                "runtime_suggested_min": round_up(1.2 * longest + 10),
                "source": label(set().union(*(job.cost.kinds for job in mine))),
            }
        )
    gpu_hours = sum(row["gpu_hours"] for row in rows)
    node = resources["train_stage1"]["gpu"]  # a training job holds one whole node
    return {
        "rules": rows,
        "node_gpus": node,
        "retries": retries,
        "total": {
            "jobs": sum(row["jobs"] for row in rows),
            "gpu_hours": gpu_hours,
            "critical_path_h": critical_path(jobs) / 3600,
            "one_node_h": gpu_hours / node,
        },
    }


def basis(timings):
    """Where the per-step seconds come from, in words."""
    name, bf16, fp32 = gpu_peak(timings.gpu)
    estimate = (
        f"estimated from the FLOPs torch counts at {timings.mfu:.0%} of {name}'s peak ({bf16} TFLOP/s "
        f"bf16, {fp32} fp32)"
    )
    device = timings.section("device")
    if not device:
        return f"{estimate}; no GPU measurement given (--measured)"
    return (
        f"measured by benchmarks/gpu_check.py on {device.get('name')} (torch {device.get('torch')}, "
        f"{timings.measured.get('date')}); what it did not measure is {estimate}"
    )


def render(summary, timings, frames_per_video):
    """The summary as a Markdown table, then what its figures rest on."""
    head = (
        "| rule | jobs | GPUs/job | longest job (h) | GPU-hours | runtime: profile (min) | attempts | "
        "runtime: suggested (min) | from |"
    )
    lines = [head, "|---" * (head.count(" | ") + 1) + "|"]
    for r in summary["rules"]:
        attempts = f"{r['attempts']}" + (" (too many)" if r["attempts"] > r["max_attempts"] else "")
        lines.append(
            f"| {r['rule']} | {r['jobs']} | {r['gpus_per_job']} | {r['longest_job_h']:.1f} | "
            f"{r['gpu_hours']:,.0f} | {r['runtime_profile_min']} | {attempts} | "
            f"{r['runtime_suggested_min']} | {r['source']} |"
        )
    total = summary["total"]
    lines.append(
        f"| total | {total['jobs']} | | {total['critical_path_h']:.1f} (critical path) | "
        f"{total['gpu_hours']:,.0f} | | | | |"
    )
    node = summary["node_gpus"]
    return "\n".join(
        lines
        + [
            "",
            f"Per-step times: {basis(timings)}.",
            f"Wall time: {total['critical_path_h']:.1f} h if every job starts once its inputs exist "
            f"(the profile queues at most its `jobs` at once, and the cluster may have fewer GPUs free); "
            f"{total['one_node_h']:,.0f} h "
            f"({total['one_node_h'] / 24:.1f} days) on one {node}-GPU node running the jobs back to back.",
            f"Attempts: the submissions the longest job needs at the profile's runtime "
            f"(a training or pretraining saves, exits and resumes, at most {1 + summary['retries']} times; "
            "other rules must finish in one). "
            f"Suggested runtime: the longest job in one attempt, +20 % and 10 minutes.",
            f"Assumed: {frames_per_video:g} frames per video (NTU RGB+D: about 4 M frames in 56,880 videos); "
            f"Kinetics-400 {ASSUMED_SIZES['k400']['main_train']:,} training and {ASSUMED_SIZES['k400']['main_val']:,} "
            f"test samples (the config gives no sizes); unless measured: preprocessing {PREPROCESS_PER_S:,} samples/s "
            f"(one core; the native 3D preprocessing as fast) and the detector {DETECTOR_FLOPS / 1e9:.0f} GFLOP "
            f"per frame (torchvision's model card); "
            f"OpenPifPaf, which the GPU check does not run, as fast as ViTPose-B's pipeline.",
        ]
    )


def read_measured(path):
    """A benchmarks/gpu_check.py report, or {} without one."""
    if not path:
        return {}
    try:
        measured = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"--measured {path}: not a readable JSON report: {err}") from err
    if measured.get("schema") != 1 or "sections" not in measured:
        raise InputError(f"--measured {path}: not a benchmarks/gpu_check.py report (schema 1 with 'sections')")
    return measured


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.plan", description=__doc__.split("\n")[0])
    parser.add_argument("--configfile", nargs="+", default=[], help="merged over config.yaml, as for snakemake")
    parser.add_argument("--profile", default=PROFILE, help="the Snakemake profile's config.v8+.yaml")
    parser.add_argument("--measured", help="a benchmarks/gpu_check.py report (JSON)")
    parser.add_argument(
        "--gpu",
        help="GPU of the estimates (default: the measured one if known, else A100), one of "
        + ", ".join(entry[0] for entry in GPU_PEAKS),
    )
    parser.add_argument("--mfu", type=float, default=0.3, help="assumed fraction of the peak of the estimates")
    parser.add_argument("--frames-per-video", type=float, default=FRAMES_PER_VIDEO)
    parser.add_argument("--json", help="also write the summary here")
    args = parser.parse_args(argv)
    measured = read_measured(args.measured)
    gpu = args.gpu or measured.get("sections", {}).get("device", {}).get("name", "")
    gpu = gpu if gpu_peak(gpu) else (args.gpu or "A100")
    if gpu_peak(gpu) is None:
        raise InputError(f"--gpu {gpu}: not a known GPU (known: {', '.join(entry[0] for entry in GPU_PEAKS)})")
    if not 0 < args.mfu <= 1:
        raise InputError(f"--mfu {args.mfu}: expected a fraction in (0, 1]")
    config = load_config(args.configfile)
    resources = rule_resources(load_yaml(args.profile))
    timings = Timings(measured, gpu, args.mfu)
    jobs = project(config, resources, timings, args.frames_per_video)
    summary = summarise(jobs, resources, config["train"]["retries"])
    print(render(summary, timings, args.frames_per_video))
    if args.json:
        Path(args.json).write_text(json.dumps({"basis": basis(timings), **summary}, indent=1) + "\n")
