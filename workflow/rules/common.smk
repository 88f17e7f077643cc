"""Helpers shared by every rule: config access, code inputs and the target lists."""

import ast
import copy
import csv
import functools
import hashlib
import json
import re
import shlex
from pathlib import Path

import jsonschema
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

REPO = Path(workflow.basedir)
TIERS = ("hq", "mq", "lq")
# The native 3D NTU-25 datasets (docs/method.md §2.4): one tier, the Kinect's own skeletons.
NATIVE_3D = ("synth_3d", "ntu60_3d", "ntu120_3d")
KINECT = "kinect"


def config_error(message):
    """A WorkflowError naming the config file(s), raised before any job runs."""
    files = (
        ", ".join(str(Path(f).resolve()) for f in workflow.configfiles) or "the config"
    )
    return WorkflowError(f"invalid configuration in {files}:\n{message}")


SCHEMA = REPO / "workflow/schemas/config.schema.yaml"

# jsonschema counts 8.0 as an integer, and a job would get the float (range(8.0) fails): a second
# pass, after Snakemake's has filled the defaults, accepts only Python ints for integer keys.
STRICT_INTEGERS = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer",
        lambda _, value: isinstance(value, int) and not isinstance(value, bool),
    ),
)


def validate_config():
    """Validate the config against the schema."""
    try:
        validate(config, str(SCHEMA))
    except WorkflowError as err:
        raise config_error(err.args[0] if err.args else err) from None
    error = jsonschema.exceptions.best_match(
        STRICT_INTEGERS(yaml.safe_load(SCHEMA.read_text())).iter_errors(config)
    )
    if error:
        raise config_error(f"{error.json_path[2:]}: {error.message}")


validate_config()

# The datasets something is built for: those of the experiments and the paper's artefacts. A
# dataset that is only defined stays inert, so a config merged over config.yaml (--configfile)
# does not drag in the demo's synth dataset.
DATASETS = sorted(
    {e["dataset"] for e in config["experiments"]} | {config["paper"]["dataset"]}
)


def check_known(key, names, allowed, what):
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise config_error(
            f"{key}: {unknown} not configured in {what} "
            f"(configured: {', '.join(allowed) or 'none'})"
        )


def used_downloads(dataset):
    """{config key: downloads name} of everything a dataset and its estimators need."""
    cfg = config["datasets"][dataset]
    used = {key: cfg[key] for key in ("release", "kpfiles") if cfg.get(key)}
    for tier, spec in cfg.get("estimators", {}).items():
        for arg, download in spec.get("downloads", {}).items():
            used[f"estimators.{tier}.downloads.{arg}"] = download
    return used


def check_names():
    """Every name the config uses (datasets, backbones, methods, downloads) is configured."""
    for i, experiment in enumerate(config["experiments"]):
        check_known(
            f"experiments[{i}].dataset",
            [experiment["dataset"]],
            config["datasets"],
            "datasets",
        )
        for key in ("backbones", "methods"):
            check_known(f"experiments[{i}].{key}", experiment[key], config[key], key)
        for key, section in (("pretrain", "pretraining"), ("recipe", "recipes")):
            if key in experiment:
                check_known(
                    f"experiments[{i}].{key}",
                    [experiment[key]],
                    config[section],
                    section,
                )
    if "synth_3d" in DATASETS and "synth" not in config["datasets"]:
        raise config_error(
            "datasets.synth_3d: captures the scenes of datasets.synth, which is not configured"
        )
    check_known(
        "train.pretrained",
        list(config["train"]["pretrained"]),
        config["backbones"],
        "backbones",
    )
    check_known(
        "paper.dataset", [config["paper"]["dataset"]], config["datasets"], "datasets"
    )
    downloads = config.get("downloads", {})
    files = [d["file"] for d in downloads.values()]
    shared = sorted({f for f in files if files.count(f) > 1})
    if shared:  # fetch finds a download by its file name
        raise config_error(f"downloads: file {shared} named by more than one entry")
    for name in DATASETS:
        for key, download in used_downloads(name).items():
            check_known(f"datasets.{name}.{key}", [download], downloads, "downloads")


check_names()


def check_values():
    """Values the schema passes but a job would fail on, or silently ignore: refused here, naming
    the config key, so that `snakemake -n` fails before any job runs."""
    for dataset, backbone in sorted(
        {(e["dataset"], b) for e in config["experiments"] for b in e["backbones"]}
    ):
        section = preprocess_section(dataset)
        n_frames = config[section]["n_frames"]
        maxlen = backbone_sizes(dataset, backbone).get("maxlen", n_frames)
        overridden = "maxlen" in config["datasets"][dataset].get("backbones", {}).get(
            backbone, {}
        )
        prefix = f"datasets.{dataset}." if overridden else ""
        key = f"{prefix}backbones.{backbone}.maxlen"
        if maxlen < n_frames:
            raise config_error(
                f"{key}: {maxlen} is below {section}.n_frames {n_frames}"
            )
    for name in DATASETS:
        frames = config["datasets"][name].get("synthetic")
        if frames and frames["min_frames"] > frames["max_frames"]:
            raise config_error(
                f"datasets.{name}.synthetic.min_frames: {frames['min_frames']} exceeds max_frames {frames['max_frames']}"
            )
    for i, experiment in enumerate(config["experiments"]):
        dataset = experiment["dataset"]
        check_known(
            f"experiments[{i}].splits",
            experiment["splits"],
            config["datasets"][dataset]["splits"],
            f"datasets.{dataset}.splits",
        )


def check_paper():
    """The paper's model, methods, reference columns and training tier are configured."""
    paper = config["paper"]
    check_known("paper.backbone", [paper["backbone"]], config["backbones"], "backbones")
    if paper["pretrain"] is not None:
        check_known(
            "paper.pretrain", [paper["pretrain"]], config["pretraining"], "pretraining"
        )
    splits = config["datasets"][paper["dataset"]]["splits"]
    check_known(
        "paper.split", [paper["split"]], splits, f"datasets.{paper['dataset']}.splits"
    )
    runs = [*config["methods"], "stage1"]
    for key in ("table_methods", "fig5_methods", "activation_methods"):
        check_known(f"paper.{key}", paper[key], runs, "methods (or stage1)")
    section = robustness_section(paper["dataset"])
    # the tables and figures 5-6 read the grid; the activation figure reads clean inputs only
    for key in ("table_methods", "fig5_methods"):
        if "stage1" in paper[key] and not config[section]["stage1_grid"]:
            raise config_error(
                f"paper.{key}: stage1 needs the stage-1 models evaluated over the grid "
                f"({section}.stage1_grid is false)"
            )
    with open(REPO / "resources" / "paper_numbers.csv", newline="") as table:
        known = sorted({row["dataset"] for row in csv.DictReader(table)})
    for name, reference in paper["reference_dataset"].items():
        check_known(
            f"paper.reference_dataset.{name}",
            [reference],
            known,
            "resources/paper_numbers.csv",
        )
    for name in DATASETS:  # every built 2D dataset trains (and is tested) on this tier
        if name in NATIVE_3D:
            continue
        estimators = config["datasets"][name]["estimators"]
        check_known(
            "train.estimator",
            [config["train"]["estimator"]],
            estimators,
            f"datasets.{name}.estimators",
        )


def grid_levels(grid, perturbation):
    """The levels of ``perturbation`` in a robustness section (maskclr.evaluate's grid)."""
    return {
        "noise_st": grid["noise_sigmas"],
        "noise_spatial": grid["noise_sigmas"],
        "part": grid["parts"],
        "joints": grid["joint_fractions"],
        "frames_noise": [grid["frames_noise"]["fraction"]],
    }[perturbation]


def condition_level(key, perturbation, level, levels, known):
    """The grid level an error condition names: a part, or a number > 0 (σ = 0 is the clean
    input), ``max`` the largest; a config error otherwise."""
    if perturbation == "part":
        if level == "max":
            raise config_error(
                f"{key}: part has no largest level: name a part ({known})"
            )
        if level not in levels:
            raise config_error(f"{key}: level {level!r} is not in the grid ({known})")
        return level
    numbers = [value for value in levels if value > 0]
    if level == "max":
        if not numbers:
            raise config_error(f"{key}: max: {known}, none > 0")
        return max(numbers)
    try:
        value = float(level)  # YAML reads 5e-3 as a string
    except ValueError:
        raise config_error(
            f"{key}: level {level!r} is not a number or max ({known})"
        ) from None
    if value not in numbers:
        raise config_error(
            f"{key}: level {level!r} is not a level > 0 of the grid ({known}; or max)"
        )
    return value


def check_error_conditions():
    """Each of paper.error_conditions names a grid point of the paper dataset's robustness grid
    (``condition_level``), none twice."""
    section = robustness_section(config["paper"]["dataset"])
    seen = {}
    for i, condition in enumerate(config["paper"]["error_conditions"]):
        perturbation, key = condition["perturbation"], f"paper.error_conditions[{i}]"
        levels = grid_levels(config[section], perturbation)
        known = f"{section} has {perturbation} levels {levels}"
        point = perturbation, condition_level(
            key, perturbation, condition["level"], levels, known
        )
        if point in seen:
            raise config_error(
                f"{key}: {perturbation} at {point[1]} again (paper.error_conditions[{seen[point]}])"
            )
        seen[point] = i


# A class named "module:Class" (maskclr.registry): backbones.<name>.class, an estimator's type.
CLASS_SPEC = re.compile(r"[\w.]+:\w+")


@functools.cache  # asked for every import of every module the code inputs reach (thousands)
def module_file(dotted):
    """The source file of module ``dotted`` where a job finds it: the package's src/, the working
    directory (jobs run `python -m` there), then PYTHONPATH; None when it is in none of them.
    """
    roots = [REPO / "src", Path.cwd()]
    roots += [Path(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    relative = Path(*dotted.split("."))
    for root in roots:
        for path in (
            root / relative / "__init__.py",
            (root / relative).with_suffix(".py"),
        ):
            if path.is_file():
                return path
    return None


@functools.cache
def module_tree(dotted):
    """The parsed source of a module (dotted name), or None when its file is not found. The config
    is checked against the registries and signatures without importing them: that would import
    torch here, and a user's module may need what only the job's environment has.
    """
    path = module_file(dotted)
    if path is None:
        return None
    try:
        return ast.parse(path.read_text(), str(path))
    except SyntaxError as err:
        raise config_error(f"{path}: line {err.lineno}: {err.msg}") from None


def module_dict(dotted, name):
    """The module-level dict literal ``name`` of module ``dotted``, as an ``ast.Dict``."""
    for node in module_tree(dotted).body:
        if isinstance(node, ast.Assign) and name in [
            getattr(t, "id", None) for t in node.targets
        ]:
            return node.value
    raise WorkflowError(f"{dotted}: no module-level {name}")


def constructor_arguments(dotted, cls):
    """The arguments of ``cls.__init__`` in module ``dotted`` but self; None when it takes **kwargs,
    or when the module's file, the class or its own ``__init__`` is not found (unchecked).
    """
    tree = module_tree(dotted)
    found = [
        node
        for c in (tree.body if tree else [])
        if isinstance(c, ast.ClassDef) and c.name == cls
        for node in c.body
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    ]
    if len(found) != 1:
        return None
    args = found[0].args
    named = (args.posonlyargs + args.args)[1:] + args.kwonlyargs
    return None if args.kwarg else [a.arg for a in named]


BUILTIN_BACKBONES = ast.literal_eval(module_dict("maskclr.models", "BACKBONES"))


def backbone_class(name):
    """The "module:Class" of backbone ``name``: its entry's ``class``, else the built-in one."""
    spec = config["backbones"][name].get("class") or BUILTIN_BACKBONES.get(name)
    if spec is None:
        raise config_error(
            f"backbones.{name}: not a built-in backbone ({', '.join(BUILTIN_BACKBONES)}): "
            "name its class, e.g. class: 'my_models.mynet:MyNet' (a module in the working directory or on PYTHONPATH)"
        )
    return spec


def class_code(spec):
    """The source file of the class "module:Class", where found: an input of the jobs using it."""
    path = module_file(spec.split(":")[0])
    return [os.path.relpath(path)] if path else []


def check_sizes(key, name, sizes):
    """The size keys ``sizes`` (at config ``key``) of backbone ``name`` are arguments of its
    constructor, when its source is found."""
    dotted, cls = backbone_class(name).split(":")
    allowed = constructor_arguments(dotted, cls)
    if allowed is not None:
        check_known(
            key, [k for k in sizes if k != "class"], allowed, f"the arguments of {cls}"
        )


def check_registries():
    """Backbone sizes (and a dataset's overrides of them) are arguments of the backbone's
    constructor, estimator types are registered or name a class ("module:Class")."""
    for name, entry in config["backbones"].items():
        check_sizes(f"backbones.{name}", name, entry)
    for dataset in DATASETS:
        for name, sizes in config["datasets"][dataset].get("backbones", {}).items():
            key = f"datasets.{dataset}.backbones"
            check_known(key, [name], config["backbones"], "backbones")
            check_sizes(f"{key}.{name}", name, sizes)
    registry = module_dict("maskclr.poses.extract", "ESTIMATORS")
    types = [key.value for key in registry.keys] + ["release"]
    for name in DATASETS:
        for tier, spec in config["datasets"][name].get("estimators", {}).items():
            if not CLASS_SPEC.fullmatch(spec["type"]):
                check_known(
                    f"datasets.{name}.estimators.{tier}.type",
                    [spec["type"]],
                    types,
                    "maskclr.poses.extract.ESTIMATORS (or release, or 'module:Class')",
                )


def preprocess_section(dataset):
    """The config section that preprocesses ``dataset``: MotionBERT's 2D or the native 3D one."""
    return "preprocess_3d" if dataset in NATIVE_3D else "preprocess"


def robustness_section(dataset):
    """The robustness grid of ``dataset``: make_cam units in 2D, metres on native 3D data."""
    return "robustness_3d" if dataset in NATIVE_3D else "robustness"


def backbone_sizes(dataset, backbone):
    """The size arguments of ``backbone`` on ``dataset``: its entry, with the dataset's overrides
    (datasets.<name>.backbones: the joints and frames its data fixes)."""
    overrides = config["datasets"][dataset].get("backbones", {}).get(backbone, {})
    return {**config["backbones"][backbone], **overrides}


def check_recipes():
    """Every recipe, merged over train.schedule, is a valid schedule (the schema's checks)."""
    schema = yaml.safe_load(SCHEMA.read_text())
    schedule = {**schema["$defs"]["schedule_keys"], "$defs": schema["$defs"]}
    for name, recipe in config["recipes"].items():
        merged = {**config["train"]["schedule"], **recipe}
        error = jsonschema.exceptions.best_match(
            STRICT_INTEGERS(schedule).iter_errors(merged)
        )
        if error:
            raise config_error(f"recipes.{name}.{error.json_path[2:]}: {error.message}")


check_values()
check_paper()
check_error_conditions()
check_registries()
check_recipes()

# Rules run `python -m maskclr.<module>`: make the package importable from src/ in every job,
# including conda environments and cluster jobs (which re-read this file).
shell.prefix(
    "set -euo pipefail; export PYTHONPATH="
    + shlex.quote(str(REPO / "src"))
    + "${{PYTHONPATH:+:$PYTHONPATH}}; "  # braces doubled: Snakemake formats the prefix
)


def alternation(names):
    """A wildcard regex matching exactly ``names`` (and nothing when there are none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


def run_name(pretrain, run):
    """The folder of a model: its run (stage1 or a method), after its pretraining if any
    ("mamp+maskclr": MaskCLR fine-tuned from the MAMP pretraining)."""
    return f"{pretrain}+{run}" if pretrain else run


def run_parts(run):
    """(pretraining or None, stage1 or method) of a run folder name (``run_name``)."""
    pretrain, _, base = run.rpartition("+")
    return pretrain or None, base


def runs(bases):
    """Every run folder name of ``bases`` (stage1, methods): from scratch and after each pretraining."""
    return [run_name(p, b) for p in [None, *config["pretraining"]] for b in bases]


wildcard_constraints:
    dataset="|".join(DATASETS),
    estimator="|".join([*TIERS, KINECT]),
    split="xsub|xview|xset|main",
    backbone="|".join(config["backbones"]) or "none",
    pretrain=alternation(config["pretraining"]),
    run=alternation(runs(["stage1", *config["methods"]])),
    seed=r"0|[1-9]\d*",
    shard=r"\d+",


include: "code.smk"


def canonical(value):
    """A param value as sorted-key JSON: Snakemake compares params by their text, so a config
    written with its keys in another order must give the same text (and rerun nothing).
    """
    return json.dumps(value, sort_keys=True)


def repo_file(path):
    """A file shipped in the repository, as an input path (works with --directory too).

    Relative inside the working directory (a run in the repository moves with it), else
    absolute: Snakemake compares input paths, and a path up to the repository would change
    when the run directory is copied to another depth.
    """
    file = (REPO / path).resolve()
    return (
        str(file.relative_to(Path.cwd()))
        if file.is_relative_to(Path.cwd())
        else str(file)
    )


def dataset_cfg(wildcards):
    return config["datasets"][wildcards.dataset]


def tiers(dataset):
    """Quality tiers of a dataset, in hq, mq, lq order; a native 3D dataset's one: kinect."""
    if dataset in NATIVE_3D:
        return [KINECT]
    return [t for t in TIERS if t in config["datasets"][dataset]["estimators"]]


def pose_format(dataset):
    """The skeletons of a dataset's pose files: 2d (pixels, scores) or 3d (NTU-25, metres)."""
    return "3d" if dataset in NATIVE_3D else "2d"


def train_tier(dataset):
    """The tier a dataset's models train and are tested on: train.estimator, or kinect in 3D."""
    return KINECT if dataset in NATIVE_3D else config["train"]["estimator"]


def released(dataset, tier):
    """Whether a tier is imported from the dataset's release (else extracted or simulated)."""
    if dataset in NATIVE_3D:
        return "release" in config["datasets"][dataset]
    return config["datasets"][dataset]["estimators"][tier]["type"] == "release"


def pose_sets(imported):
    """'dataset/tier' of every tier imported from a release (or of every extracted one; the
    synthetic Kinect tier is neither: rule generate_kinect writes it)."""
    return [
        f"{d}/{t}"
        for d in DATASETS
        for t in tiers(d)
        if released(d, t) == imported and d != "synth_3d"
    ]


def split_pose_set(wildcards):
    """(dataset, tier) of a 'dataset/tier' pose set wildcard."""
    return wildcards.pose_set.split("/")


def shards(dataset):
    return config["datasets"][dataset].get("shards", 1)


def shard_files(wildcards):
    dataset, tier = split_pose_set(wildcards)
    return [
        f"results/poses/{dataset}/{tier}/shard{k}.pkl" for k in range(shards(dataset))
    ]


def download_file(name):
    """Where the download ``name`` lies once fetched (or linked from its configured path)."""
    return f"resources/downloads/{config['downloads'][name]['file']}"


def download_spec(wildcards):
    """The downloads entry whose file is being fetched, as JSON."""
    found = {
        name: spec
        for name, spec in config.get("downloads", {}).items()
        if spec["file"] == wildcards.file
    }
    ((name, spec),) = found.items()
    return name, canonical(spec)


def release_inputs(wildcards):
    """The PYSKL release of a dataset, and for Kinetics-400 its kpfiles archive."""
    dataset, _ = split_pose_set(wildcards)
    cfg = config["datasets"][dataset]
    files = {"release": download_file(cfg["release"])}
    if cfg.get("kpfiles"):
        files["kpfiles"] = download_file(cfg["kpfiles"])
    return files


# Params functions below take only wildcards: Snakemake does not record params computed from
# `input` in its metadata, so a change of them would not rerun the job (measured, 9.27.1).
def release_args(wildcards):
    """The import command's options: format, splits, classes, expected sizes, K400 selection."""
    dataset, _ = split_pose_set(wildcards)
    cfg = config["datasets"][dataset]
    kpfiles = release_inputs(wildcards).get("kpfiles")
    args = [
        "k400" if kpfiles else "ntu",
        "--format",
        pose_format(dataset),
        "--splits",
        *cfg["splits"],
        "--num-classes",
        cfg["num_classes"],
        "--expected-json",
        canonical(cfg.get("expected_sizes", {})),
        "--box-threshold",
        cfg.get("box_threshold", 0.5),
    ]
    if kpfiles:
        args += ["--kpfiles", kpfiles]
    return [str(arg) for arg in args]  # a list: the rule's {params.args:q} quotes each


def estimator_spec(wildcards):
    estimators = dataset_cfg(wildcards)["estimators"]
    if wildcards.estimator not in estimators:
        raise WorkflowError(
            f"config: datasets.{wildcards.dataset}.estimators has no tier "
            f"'{wildcards.estimator}' (configured: {', '.join(estimators)})"
        )
    return estimators[wildcards.estimator]


def estimator_downloads(wildcards):
    """Files an estimator needs (weights), by constructor argument ('detector.weights' for a
    nested one, named detector_weights as an input): inputs of its jobs."""
    wanted = estimator_spec(wildcards).get("downloads", {})
    return {arg.replace(".", "_"): download_file(name) for arg, name in wanted.items()}


def estimator_json(wildcards):
    """The estimator spec of one dataset and tier as JSON: each download becomes its argument's
    path, and its pinned checksum the argument's `<name>_sha256` (the adapter verifies it).
    """
    spec = copy.deepcopy(estimator_spec(wildcards))
    for arg, name in spec.pop("downloads", {}).items():
        *parents, key = arg.split(".")
        target = spec
        for parent in parents:
            target = target.setdefault(parent, {})
        target[key] = download_file(name)
        if config["downloads"][name].get("sha256"):
            target[f"{key}_sha256"] = config["downloads"][name]["sha256"]
    return canonical(spec)


def estimator_env(wildcards):
    """Each estimator stack has its own pinned environment (envs/<type>.yaml) where one exists."""
    kind = estimator_spec(wildcards)["type"]
    env = REPO / "envs" / f"{kind}.yaml"
    return str(env if env.exists() else REPO / "envs" / "data.yaml")


def source_file(dataset):
    """What the estimators run on: synth's ground-truth scenes, or a real dataset's videos."""
    return f"results/raw/{dataset}/{'scenes' if dataset == 'synth' else 'videos'}.pkl"


def data_targets():
    return [
        f"results/data/{d}/{e}/{s}.h5"
        for d in DATASETS
        for e in tiers(d)
        for s in config["datasets"][d]["splits"]
    ]


def download_targets():
    return sorted(
        {download_file(n) for d in DATASETS for n in used_downloads(d).values()}
    )


def split_list_targets():
    return [f"results/splits/{d}" for d in DATASETS]


def pose_quality_targets():
    return (
        [f"results/poses/synth/{e}.quality.json" for e in tiers("synth")]
        if "synth" in DATASETS
        else []
    )


DEFAULT_SEED = config["train"]["schedule"]["seed"]


def experiment_models():
    """{(dataset, split, backbone, run, seed): recipe name or None} of every configured model,
    stage 1 included; a run is stage1 or a method (after its pretraining: ``run_name``), and an
    experiment without `seeds:` trains the schedule's seed. Two experiments may share a model
    (a stage 1) only with the same recipe.
    """
    models = {}
    for i, e in enumerate(config["experiments"]):
        for split in e["splits"]:
            for backbone in e["backbones"]:
                for seed in e.get("seeds", [DEFAULT_SEED]):
                    for base in ["stage1", *e["methods"]]:
                        run = run_name(e.get("pretrain"), base)
                        model = (e["dataset"], split, backbone, run, seed)
                        recipe = e.get("recipe")
                        if models.setdefault(model, recipe) != recipe:
                            raise config_error(
                                f"experiments[{i}].recipe: {recipe} trains {'/'.join(map(str, model))}, "
                                f"which another experiment trains with recipe {models[model]}"
                            )
    return models


MODELS = experiment_models()


def trained_models():
    """(dataset, split, backbone, run, seed) of every configured model, sorted."""
    return sorted(MODELS)


def pretrained_models():
    """(dataset, split, backbone, pretraining, seed) of every pretraining a model starts from."""
    return sorted(
        {(d, s, b, run_parts(run)[0], seed) for d, s, b, run, seed in MODELS}
        - {(d, s, b, None, seed) for d, s, b, _, seed in MODELS}
    )


def model_targets():
    return [
        f"results/models/{d}/{s}/{b}/{run}/seed{seed}/{f}"
        for d, s, b, run, seed in trained_models()
        for f in ("model.pt", "metrics.json")
    ]


def pretrain_targets():
    return [
        f"results/pretrain/{d}/{s}/{b}/{p}/seed{seed}/{f}"
        for d, s, b, p, seed in pretrained_models()
        for f in ("model.pt", "metrics.json")
    ]


def eval_targets():
    return [
        f"results/eval/{d}/{s}/{b}/{run}/seed{seed}{suffix}"
        for d, s, b, run, seed in trained_models()
        for suffix in (".csv", "_activation.npz", "_confusion.npz")
    ]


def train_data(wildcards):
    """Models train and are tested on the poses of the configured tier (the paper: mq; kinect on
    native 3D data)."""
    return f"results/data/{wildcards.dataset}/{train_tier(wildcards.dataset)}/{wildcards.split}.h5"


# A training cut by its time budget exits non-zero and resumes when run again: only the main
# process may retry it, resubmitting it with a fresh allocation. Inside a SLURM job Snakemake
# runs in remote mode with `--retries 0`, which a rule's own `retries:` overrides: it would rerun
# the training in the spent allocation until SLURM kills it (snakemake-executor-plugin-slurm #284).
# The main process's count is train.retries (the CLI's --retries, unknown while the workflow is
# parsed, cannot raise it).
TRAIN_RETRIES = 0 if workflow.remote_exec else config["train"]["retries"]


def backbone_json(wildcards):
    return canonical(backbone_sizes(wildcards.dataset, wildcards.backbone))


def recipe(wildcards):
    """The schedule of the model being trained: train.schedule with its experiment's recipe."""
    w = wildcards
    model = (w.dataset, w.split, w.backbone, w.run, int(w.seed))
    if model not in MODELS:
        # Requested by a target, or by the paper's artefacts of a config that trains other models
        # (a 3D-only grid, say); a partial config stays valid for the targets it does train.
        raise config_error(
            f"results/models/{w.dataset}/{w.split}/{w.backbone}/{w.run}/seed{w.seed} is trained "
            "by no experiment; it is requested by the target or by the paper's artefacts (paper: "
            "dataset, split, backbone, pretrain, activation_methods). Add it to "
            "experiments or point paper: at a trained model"
        )
    return {**config["train"]["schedule"], **config["recipes"].get(MODELS[model], {})}


def schedule_keys(stage, schedule):
    """The keys of ``schedule`` a training stage reads (maskclr.train): a key reaches only the
    stages that read it, so that changing it reruns only them. Stage 1 reads epochs_stage2
    only under the cosine decay, which spans both stages; lr_decay, milestones and the SGD
    momentum belong to their schedule or optimiser only."""
    unread = {
        key
        for key, needed in (
            ("lr_decay", schedule["lr_schedule"] == "exponential"),
            ("milestones", schedule["lr_schedule"] == "step"),
            ("momentum", schedule["optimizer"] == "sgd"),
            ("nesterov", schedule["optimizer"] == "sgd"),
            ("epochs_stage2", stage != "stage1" or schedule["lr_schedule"] == "cosine"),
        )
        if not needed
    }
    return sorted(set(schedule) - unread)


def schedule_json(stage):
    """A params function: the schedule keys ``stage`` reads, with the seed of this run."""

    def params(wildcards):
        schedule = {**recipe(wildcards), "seed": int(wildcards.seed)}
        return canonical({key: schedule[key] for key in schedule_keys(stage, schedule)})

    return params


def method_json(wildcards):
    return canonical(config["methods"][method_of(wildcards)])


def preprocess_json(wildcards):
    """The preprocessing settings of the dataset (its section: ``preprocess_section``)."""
    return canonical(config[preprocess_section(wildcards.dataset)])


def test_preprocess_json(wildcards):
    """What the evaluation preprocesses test poses with: the 2D section, or of the native 3D one
    the keys a test clip depends on (no training crop, no rotation)."""
    if wildcards.dataset not in NATIVE_3D:
        return preprocess_json(wildcards)
    pre = config["preprocess_3d"]
    return canonical(
        {
            "pipeline": "native3d",
            "n_frames": pre["n_frames"],
            "test_ratio": pre["test_ratio"],
        }
    )


def grid_json(wildcards):
    """The robustness grid a model is evaluated over: its dataset's section; a stage-1 model's
    is clean only (every tier, and the activations) unless the section's stage1_grid."""
    grid = dict(config[robustness_section(wildcards.dataset)])
    if not grid.pop("stage1_grid") and run_parts(wildcards.run)[1] == "stage1":
        # no random perturbation: the seed is unused, so changing it reruns no stage-1 evaluation
        grid.update(
            seed=0, noise_sigmas=[], parts=[], joint_fractions=[], frames_noise=None
        )
    return canonical(grid)


def stage1_model(wildcards):
    """The stage-1 model a stage-2 run continues from (the same pretraining and seed)."""
    stage1 = run_name(run_parts(wildcards.run)[0], "stage1")
    return f"results/models/{wildcards.dataset}/{wildcards.split}/{wildcards.backbone}/{stage1}/seed{wildcards.seed}/model.pt"


def method_of(wildcards):
    """The stage-2 method of a run folder name."""
    return run_parts(wildcards.run)[1]


def pretrain_input(wildcards):
    """The pretraining checkpoint a stage 1 fine-tunes from (a declared input), if any."""
    pretrain = run_parts(wildcards.run)[0]
    if pretrain is None:
        return []
    model = "/".join((wildcards.dataset, wildcards.split, wildcards.backbone))
    return [f"results/pretrain/{model}/{pretrain}/seed{wildcards.seed}/model.pt"]


def pretrain_arg(wildcards, input):
    """``--pretrain FILE --pretrain-name NAME`` or nothing, for ``:q`` to quote each argument."""
    if not input.pretrain:
        return []
    return [
        "--pretrain",
        input.pretrain[0],
        "--pretrain-name",
        run_parts(wildcards.run)[0],
    ]


def pretraining_json(part):
    """A params function: the pretraining entry's ``schedule`` (part "schedule") or its method
    and method settings (part "method")."""

    def params(wildcards):
        entry = config["pretraining"][wildcards.pretrain]
        if part == "schedule":
            return canonical(entry["schedule"])
        return canonical({k: v for k, v in entry.items() if k != "schedule"})

    return params


def eval_poses(wildcards):
    return {
        t: f"results/poses/{wildcards.dataset}/{t}.pkl"
        for t in tiers(wildcards.dataset)
    }


def poses_args(wildcards, input):
    """``--poses TIER=FILE`` per tier, as a list for ``:q`` to quote each argument."""
    return [
        arg for t in tiers(wildcards.dataset) for arg in ("--poses", f"{t}={input[t]}")
    ]


def pretrained_input(wildcards):
    """The configured published checkpoint of this backbone (MotionBERT's for DSTFormer), if
    any (a declared input); not for a model that fine-tunes from a pretraining of ours.
    """
    path = config["train"]["pretrained"].get(wildcards.backbone)
    return [path] if path and run_parts(wildcards.run)[0] is None else []


def pretrained_arg(wildcards, input):
    """``--pretrained FILE`` or nothing, as a list for ``:q`` to quote each argument."""
    return ["--pretrained", input.pretrained[0]] if input.pretrained else []


# The tables the README shows as Markdown too (maskclr.paper.grid_markdown's GRIDS).
GRID_MARKDOWN = ("noise", "occlusion")
TABLES = (
    "table1",
    "table2",
    "table3",
    "classes",
    "noise",
    "occlusion",
    "activation_spread",
)
# The pretraining losses only where some experiment fine-tunes from a pretraining: else no rows.
FIGURES = (
    "fig5",
    "fig6",
    "classes",
    "activation",
    "confusion",
    "training_curves",
    *(["pretraining"] if pretrained_models() else []),
)


@functools.cache
def paper_keys(module):
    """{artefact: the settings keys it reads} of a maskclr.paper module (its REQUIRED), read
    from its source, so that a setting reaches only the tables and figures that show it.
    """
    return ast.literal_eval(module_dict(f"maskclr.paper.{module}", "REQUIRED"))


def paper_settings_json(module, artefact):
    """The settings one table or figure reads: of config.paper, the training tier and the class
    count of the dataset (the figure job names the classes) and every dataset's training tier;
    ``artefact`` may be a wildcard name (``{table}``).
    """

    def params(wildcards):
        dataset = config["paper"]["dataset"]
        settings = {
            **config["paper"],
            "train_estimator": train_tier(dataset),
            "train_estimators": {d: train_tier(d) for d in DATASETS},
            "num_classes": config["datasets"][dataset]["num_classes"],
        }
        keys = paper_keys(module)[artefact.format(**wildcards)]
        return canonical({key: settings[key] for key in keys if key in settings})

    return params


def paper_evaluations(method):
    """{seed: the evaluation's path stem} of a method of the paper's model (after paper.pretrain),
    every trained seed; the schedule's seed when no experiment trains it, which the DAG then
    names as an untrained model."""
    p = config["paper"]
    model = (p["dataset"], p["split"], p["backbone"], run_name(p["pretrain"], method))
    seeds = [m[4] for m in trained_models() if m[:4] == model] or [DEFAULT_SEED]
    return {seed: f"results/eval/{'/'.join(model)}/seed{seed}" for seed in seeds}


def activation_inputs():
    """The activation of each paper.activation_methods run, of its lowest trained seed: the
    default seed picks no other run."""
    return [
        f"{stems[min(stems)]}_activation.npz"
        for stems in map(paper_evaluations, config["paper"]["activation_methods"])
    ]


def confusion_inputs():
    """The confusion counts of every trained seed of the first two paper.table_methods (the
    baseline, then MaskCLR)."""
    return [
        f"{stem}_confusion.npz"
        for method in config["paper"]["table_methods"][:2]
        for stem in paper_evaluations(method).values()
    ]


def paper_targets():
    return (
        [f"results/tables/{t}.{ext}" for t in TABLES for ext in ("tex", "csv")]
        + [f"results/tables/{t}.md" for t in GRID_MARKDOWN]
        + [f"results/figures/{f}.{ext}" for f in FIGURES for ext in ("pdf", "png")]
        + [
            "results/tables/robustness_summary.csv",
            "results/tables/robustness_summary.md",
            "results/tables/robustness_by_model.csv",
            "results/tables/robustness_by_model.tex",
            "results/tables/robustness_by_model.md",
            "results/tables/confusion.csv",
            "results/tables/error_flow.csv",
            "results/tables/error_flow.md",
        ]
    )


def run_targets():
    """Every result of a full run: the targets of `rule all` (and what `audit` records)."""
    return (
        data_targets()
        + split_list_targets()
        + pose_quality_targets()
        + pretrain_targets()
        + model_targets()
        + eval_targets()
        + ["results/metrics.csv"]
        + paper_targets()
    )


def audit_invocation_json():
    """How to call this workflow again as it was called, for the audit's nested read-only runs.

    The Snakefile, the command line's config files (absolute) and `--config` overrides, exactly
    what Snakemake itself hands to cluster jobs; the working directory is the job's own.
    """
    settings = workflow.config_settings
    return json.dumps(
        {
            "snakefile": str(Path(workflow.main_snakefile).resolve()),
            "configfiles": [str(f) for f in settings.configfiles],
            "config_args": list(settings.config_args or []),
        },
        sort_keys=True,
    )
