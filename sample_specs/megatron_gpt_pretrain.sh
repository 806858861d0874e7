#!/bin/bash
# GPT pretraining with Megatron-LM, in the style of examples/gpt3/train_gpt3_175b_distributed.sh:
# a 1.3B-parameter model on 4 nodes x 8 GPUs, a batch-size ramp from 128 to 1024 sequences over
# the first 20M samples, then WSD: warmup, a long stable phase, and a cosine anneal over the last
# 20% of the decay.
#
#   sched plot sample_specs/megatron_gpt_pretrain.sh --from megatron --x tok
#   sched export sample_specs/megatron_gpt_pretrain.sh --from megatron -o lr.csv

export CUDA_DEVICE_MAX_CONNECTIONS=1

GPUS_PER_NODE=8
NUM_NODES=4
MASTER_ADDR=localhost
MASTER_PORT=6000
NODE_RANK=0

CHECKPOINT_PATH=$1 #<Specify path>
TENSORBOARD_LOGS_PATH=$2 #<Specify path>
VOCAB_FILE=$3 #<Specify path to file>/gpt2-vocab.json
MERGE_FILE=$4 #<Specify path to file>/gpt2-merges.txt
DATA_PATH=$5 #<Specify path and file prefix>_text_document

SEQ_LENGTH=2048
GLOBAL_BATCH_SIZE=1024
TRAIN_SAMPLES=200000000   # ~410B tokens at 2048 tokens per sample

DISTRIBUTED_ARGS=(
    --nproc_per_node $GPUS_PER_NODE
    --nnodes $NUM_NODES
    --master_addr $MASTER_ADDR
    --master_port $MASTER_PORT
    --node_rank $NODE_RANK
)

GPT_MODEL_ARGS=(
    --num-layers 24
    --hidden-size 2048
    --num-attention-heads 16
    --seq-length $SEQ_LENGTH
    --max-position-embeddings $SEQ_LENGTH
    --attention-backend auto # Can use (flash/fused/unfused/local)
)

TRAINING_ARGS=(
    --micro-batch-size 4
    --global-batch-size $GLOBAL_BATCH_SIZE
    --rampup-batch-size 128 128 20000000
    --train-samples $TRAIN_SAMPLES
    --weight-decay 0.1
    --adam-beta1 0.9
    --adam-beta2 0.95
    --init-method-std 0.006
    --clip-grad 1.0
    --bf16
    --lr 3.0e-4
    --min-lr 3.0e-5
    --lr-warmup-samples 4000000
    --lr-decay-style WSD
    --lr-wsd-decay-style cosine
    --lr-wsd-decay-samples 40000000
)

MODEL_PARALLEL_ARGS=(
    --tensor-model-parallel-size 2
    --pipeline-model-parallel-size 2
)

DATA_ARGS=(
    --data-path $DATA_PATH
    --vocab-file $VOCAB_FILE
    --merge-file $MERGE_FILE
    --split 949,50,1
)

EVAL_AND_LOGGING_ARGS=(
    --log-interval 100
    --save-interval 10000
    --eval-interval 1000
    --save $CHECKPOINT_PATH
    --load $CHECKPOINT_PATH
    --eval-iters 10
    --tensorboard-dir $TENSORBOARD_LOGS_PATH
)

torchrun ${DISTRIBUTED_ARGS[@]} pretrain_gpt.py \
    ${GPT_MODEL_ARGS[@]} \
    ${TRAINING_ARGS[@]} \
    ${MODEL_PARALLEL_ARGS[@]} \
    ${DATA_ARGS[@]} \
    ${EVAL_AND_LOGGING_ARGS[@]}
