OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .devprobe/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
xz -dc .devprobe/node.xz > /tmp/node 2>/dev/null || python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(".devprobe/node.xz"), open("/tmp/node","wb"))'
chmod +x /tmp/node
(xz -dc .devprobe/nm.tar.xz 2>/dev/null || python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(\".devprobe/nm.tar.xz\"), sys.stdout.buffer)") | tar -x -C .
ls node_modules | head
timeout -k 5 ${LIMIT:-470} /tmp/node --import tsx --import ./src/engine/workerAdapter.ts bench/device/train.ts 2>&1 | tee "$OUT/train.log"
