rule train_stage1:
    """Stage 1: the standard pathway with cross-entropy (docs/method.md §6)."""
    input:
        data=train_data,
        user=user_code,
        pretrained=pretrained_input,
        pretrain=pretrain_input,
    output:
        model="results/models/{dataset}/{split}/{backbone}/{run}/seed{seed}/model.pt",
        metrics="results/models/{dataset}/{split}/{backbone}/{run}/seed{seed}/metrics.json",
    log:
        "results/logs/train/{dataset}/{split}/{backbone}/{run}/seed{seed}.log",
    wildcard_constraints:
        run=alternation(runs(["stage1"])),
    # The longest jobs first (pretraining 3, stage 1 2, stage 2 1, the rest 0): the run then ends
    # on short evaluations instead of one core idling beside a late chain of stage-1 → stage-2 →
    # evaluation (README, "Where the demo's time goes"). Order only: no output depends on it.
    priority: 2
    retries: TRAIN_RETRIES
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        runtime=60,
        # auto: the GPU if there is one (the CPU demo); the SLURM profile sets cuda: stop if none
        device="auto",
    params:
        code=train_code,
        backbone=backbone_json,
        schedule=schedule_json("stage1"),
        pretrained=pretrained_arg,
        pretrain=pretrain_arg,
        work="results/work/{dataset}/{split}/{backbone}/{run}/seed{seed}",
    shell:
        "torchrun --standalone --nproc-per-node={resources.gpu:q} -m maskclr.train --stage stage1"
        " --dataset {wildcards.dataset:q} --split {wildcards.split:q} --method stage1"
        " --data {input.data:q} --backbone {wildcards.backbone:q} --backbone-json {params.backbone:q}"
        " --schedule-json {params.schedule:q} {params.pretrained:q} {params.pretrain:q}"
        " --work-dir {params.work:q} --out-model {output.model:q} --out-metrics {output.metrics:q}"
        " --threads {threads:q} --device {resources.device:q}"
        " --time-budget-min {resources.runtime:q} 2> {log:q}"


rule train_stage2:
    """Stage 2: continue from stage 1 with a method (masked pathway, AGPM, L_sc, L_cc)."""
    input:
        data=train_data,
        user=user_code,
        init=stage1_model,
    output:
        model="results/models/{dataset}/{split}/{backbone}/{run}/seed{seed}/model.pt",
        metrics="results/models/{dataset}/{split}/{backbone}/{run}/seed{seed}/metrics.json",
    log:
        "results/logs/train/{dataset}/{split}/{backbone}/{run}/seed{seed}.log",
    wildcard_constraints:
        run=alternation(runs(config["methods"])),
    priority: 1  # see train_stage1
    retries: TRAIN_RETRIES
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        runtime=60,
        # auto: the GPU if there is one (the CPU demo); the SLURM profile sets cuda: stop if none
        device="auto",
    params:
        code=train_code,
        backbone=backbone_json,
        schedule=schedule_json("stage2"),
        method=method_json,
        name=method_of,
        work="results/work/{dataset}/{split}/{backbone}/{run}/seed{seed}",
    shell:
        "torchrun --standalone --nproc-per-node={resources.gpu:q} -m maskclr.train --stage stage2"
        " --dataset {wildcards.dataset:q} --split {wildcards.split:q} --method {params.name:q}"
        " --data {input.data:q} --init {input.init:q} --backbone {wildcards.backbone:q}"
        " --backbone-json {params.backbone:q} --schedule-json {params.schedule:q}"
        " --method-json {params.method:q} --work-dir {params.work:q} --out-model {output.model:q}"
        " --out-metrics {output.metrics:q} --threads {threads:q} --device {resources.device:q}"
        " --time-budget-min {resources.runtime:q} 2> {log:q}"
