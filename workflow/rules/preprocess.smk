rule preprocess:
    """MotionBERT preprocessing of one split to HDF5 (train and test groups)."""
    input:
        poses="results/poses/{dataset}/{estimator}.pkl",
    output:
        "results/data/{dataset}/{estimator}/{split}.h5",
    log:
        "results/logs/preprocess/{dataset}/{estimator}/{split}.log",
    wildcard_constraints:
        dataset=alternation(d for d in DATASETS if d not in NATIVE_3D),
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.preprocess"),
        pre=preprocess_json,
        num_classes=lambda wc: dataset_cfg(wc)["num_classes"],
    shell:
        "python -m maskclr.data.preprocess --poses {input.poses:q} --split {wildcards.split:q}"
        " --out {output:q} --preprocess-json {params.pre:q} --num-classes {params.num_classes:q}"
        " 2> {log:q}"


rule preprocess_native3d:
    """Native preprocessing of one split of 3D NTU-25 skeletons to HDF5 (docs/method.md §2.4):
    centred, test clips cropped and resized; training sequences kept whole for the per-epoch
    crop, resize and rotation."""
    input:
        poses="results/poses/{dataset}/{estimator}.pkl",
    output:
        "results/data/{dataset}/{estimator}/{split}.h5",
    log:
        "results/logs/preprocess/{dataset}/{estimator}/{split}.log",
    wildcard_constraints:
        dataset=alternation(d for d in DATASETS if d in NATIVE_3D),
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.native3d"),
        pre=preprocess_json,
        num_classes=lambda wc: dataset_cfg(wc)["num_classes"],
    shell:
        "python -m maskclr.data.native3d --poses {input.poses:q} --split {wildcards.split:q}"
        " --out {output:q} --preprocess-json {params.pre:q} --num-classes {params.num_classes:q}"
        " 2> {log:q}"
