"""Code inputs: the package modules a job may import, found from the source, recorded by digest.

Each job of `python -m maskclr.X` gets the param `code=job_code("maskclr.X")`: the SHA-256
of every file of the package that the job can import, from the import graph of its entry module
(plus the backbone or estimator module it imports by name). Nothing is imported here: the graph
is read with `ast` (module_tree), so the Snakemake process loads neither torch nor numpy for it.

Why a param and not file inputs: Snakemake compares params by value and input files by path, and
a path into src/ seen from the working directory changes when a run directory is copied to
another depth, which reran everything. A digest names the code by its package path alone, so a
real edit reruns exactly the jobs whose graph holds the edited file, while `touch`, a fresh
checkout or a moved run directory rerun nothing. The audit reads the digests back from the
recorded params (maskclr.audit.record.CODE_KEY).
"""

CODE_KEY = "maskclr code"  # the param's single JSON key; maskclr.audit.record reads it
PACKAGE = "maskclr"


def with_parents(dotted):
    """``dotted`` and its parent packages that have a source: importing a module runs them all."""
    parts = dotted.split(".")
    names = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    return [n for n in names if n.split(".")[0] == PACKAGE and module_file(n)]


@functools.cache  # each module's tree is walked once per parse, not once per entry importing it
def imported_names(dotted):
    """Dotted names the source of ``dotted`` imports, anywhere in it: imports inside functions
    count, since the job may call them (the estimator adapters import their stacks lazily).
    ``from pkg import name`` gives ``pkg.name`` too, which is a module when name is one.
    """
    parts = dotted.split(".")
    package = parts if module_file(dotted).name == "__init__.py" else parts[:-1]
    names = []
    for node in ast.walk(module_tree(dotted)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            base = ".".join(base + ([node.module] if node.module else []))
            names += [base, *(f"{base}.{alias.name}" for alias in node.names)]
    return tuple(names)


@functools.cache  # as imported_names: once per module, not once per entry that reaches it
def data_files(dotted):
    """Package data a module reads: its string literals that name a non-Python file beside it
    (e.g. data/ntu120_classes.txt)."""
    folder = module_file(dotted).parent
    beside = {p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".py"}
    return tuple(
        sorted(
            folder / node.value
            for node in ast.walk(module_tree(dotted))
            if isinstance(node, ast.Constant) and node.value in beside
        )
    )


@functools.cache
def job_files(entry, *imported):
    """Sorted source (and data) files of every package module that `python -m entry` may import,
    ``imported`` (modules the job imports by name: a backbone, an estimator adapter) included.
    """
    main = f"{entry}.__main__"  # `python -m package` runs the package's __main__
    todo = [main if module_file(main) else entry, *imported]
    seen = set()
    while todo:
        for name in with_parents(todo.pop()):
            if name not in seen:
                seen.add(name)
                todo.extend(imported_names(name))
    files = {module_file(n) for n in seen} | {f for n in seen for f in data_files(n)}
    return tuple(sorted(files))


@functools.cache  # asked per job (hundreds) for few distinct entries; files read once per parse
def job_code(entry, *imported):
    """The ``code`` param: canonical JSON ``{CODE_KEY: {"maskclr/…/x.py": sha256}}``."""
    src = REPO / "src"
    digests = {
        str(f.relative_to(src)): hashlib.sha256(f.read_bytes()).hexdigest()
        for f in job_files(entry, *imported)
    }
    return json.dumps({CODE_KEY: digests}, sort_keys=True)


def in_package(spec):
    """The package module of a "module:Class" (as a list; none for a user's module)."""
    dotted = spec.split(":")[0]
    return [dotted] if dotted.split(".")[0] == "maskclr" else []


def backbone_module(name):
    """The package module of backbone ``name`` (maskclr.models.BACKBONES, or its configured
    class): the trainer and the evaluation import it by name."""
    return in_package(backbone_class(name))


def user_code(wildcards):
    """The file of a user's backbone or estimator class ("module:Class" outside the package),
    where found: an input (relative to the run directory) of the jobs that import it."""
    if "backbone" in wildcards.keys():
        spec = backbone_class(wildcards.backbone)
    else:
        spec = estimator_spec(wildcards)["type"]
    return (
        class_code(spec) if CLASS_SPEC.fullmatch(spec) and not in_package(spec) else []
    )


def estimator_modules(kind):
    """The adapter module of a registered estimator type (maskclr.poses.extract.ESTIMATORS),
    imported by name through ``lazy_class("module:Class")``; none for a class extract imports.
    """
    if CLASS_SPEC.fullmatch(kind):
        return in_package(kind)
    registry = module_dict("maskclr.poses.extract", "ESTIMATORS")
    (value,) = [v for k, v in zip(registry.keys, registry.values) if k.value == kind]
    if isinstance(value, ast.Call) and isinstance(value.args[0], ast.Constant):
        return [value.args[0].value.split(":")[0]]
    return []


def train_code(wildcards):
    return job_code("maskclr.train", *backbone_module(wildcards.backbone))


def eval_code(wildcards):
    return job_code("maskclr.evaluate", *backbone_module(wildcards.backbone))


def estimator_code(wildcards):
    kind = estimator_spec(wildcards)["type"]
    return job_code("maskclr.poses.extract", *estimator_modules(kind))


def pretrain_code(wildcards):
    return job_code("maskclr.pretrain", *backbone_module(wildcards.backbone))
