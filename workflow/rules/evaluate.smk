rule evaluate:
    """One trained model over the robustness grid (a stage-1 model clean only unless
    stage1_grid: docs/method.md §7), standard pathway."""
    input:
        unpack(eval_poses),
        model="results/models/{dataset}/{split}/{backbone}/{run}/seed{seed}/model.pt",
        user=user_code,
    output:
        csv="results/eval/{dataset}/{split}/{backbone}/{run}/seed{seed}.csv",
        activation="results/eval/{dataset}/{split}/{backbone}/{run}/seed{seed}_activation.npz",
        confusion="results/eval/{dataset}/{split}/{backbone}/{run}/seed{seed}_confusion.npz",
    log:
        "results/logs/evaluate/{dataset}/{split}/{backbone}/{run}/seed{seed}.log",
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        runtime=60,
        # auto: the GPU if there is one (the CPU demo); the SLURM profile sets cuda: stop if none
        device="auto",
    params:
        code=eval_code,
        poses=poses_args,
        estimator=lambda wc: train_tier(wc.dataset),
        pre=test_preprocess_json,
        grid=grid_json,
    shell:
        "python -m maskclr.evaluate --model {input.model:q} {params.poses:q}"
        " --train-estimator {params.estimator:q} --split {wildcards.split:q}"
        " --preprocess-json {params.pre:q} --grid-json {params.grid:q} --out-csv {output.csv:q}"
        " --out-activation {output.activation:q} --out-confusion {output.confusion:q} --threads {threads:q}"
        " --device {resources.device:q} 2> {log:q}"


rule collect_metrics:
    """Every number of the run (evaluations, training and pretraining) in one long table."""
    input:
        evals=[f for f in eval_targets() if f.endswith(".csv")],
        metrics=[f for f in model_targets() if f.endswith("metrics.json")],
        pretrain=[f for f in pretrain_targets() if f.endswith("metrics.json")],
    output:
        "results/metrics.csv",
    log:
        "results/logs/collect_metrics.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.evaluate.collect"),
        estimators=canonical({d: train_tier(d) for d in DATASETS}),
    shell:
        "python -m maskclr.evaluate.collect {input.evals:q} {input.metrics:q} {input.pretrain:q}"
        " --train-estimators-json {params.estimators:q} --out {output:q} 2> {log:q}"
