# Three one-change variants of the shipped recipe from scratch, side by side on one GPU (RESULTS.md, "Which lever").
. bench/device/setup.sh
NAME=p4 SETS="model.patch=4" timeout -k 5 "${LIMIT:-330}" $TRAIN > "$OUT/p4.log" 2>&1 &
NAME=b16 SETS="train.batch=16" timeout -k 5 "${LIMIT:-330}" $TRAIN > "$OUT/b16.log" 2>&1 &
NAME=d256 SETS="model.d=256 model.heads=8" timeout -k 5 "${LIMIT:-330}" $TRAIN > "$OUT/d256.log" 2>&1 &
wait
tail -n 30 "$OUT"/*.log
