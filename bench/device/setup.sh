# Sourced by the device scripts: Vulkan loader debs, Node and node_modules from the bundle (bench/device/bundle.sh).
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
for f in .devprobe/gl/*.deb; do dpkg -x "$f" /; done; ldconfig
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
xz -dc .devprobe/node.xz > /tmp/node; chmod +x /tmp/node
xz -dc .devprobe/nm.tar.xz | tar -x -C .
TRAIN="/tmp/node --import tsx --import ./src/engine/workerAdapter.ts bench/device/train.ts"
