# Continue the shipped model's run on WebGPU (copy runs/default to .devprobe/run0 first), then export and evaluate.
. bench/device/setup.sh
NAME=continued FROM=.devprobe/run0/checkpoint.safetensors TOTAL=${TOTAL:-5000} EVAL_SCENES=64 timeout -k 5 "${LIMIT:-450}" $TRAIN 2>&1 | tee "$OUT/train.log"
