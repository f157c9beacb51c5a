#!/usr/bin/env bash
# Regenerates the demo sessions in this folder: the project's simulator writes them
# (uncompressed AEDAT4, as live-snn simulate does), then dv-processing's own writer re-encodes
# the events with ZSTD (same events, a third of the size) so that they fit in the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
.venv/bin/live-snn simulate --out "$TMP" --sessions 3 --seed 30000 --duration-s 10 --prefix demo
for raw in "$TMP"/*.aedat4; do
  name=$(basename "$raw")
  .venv/bin/python - "$raw" "recordings/$name" <<'PY'
import sys

import dv_processing as dv

src, dst = sys.argv[1:3]
reader = dv.io.MonoCameraRecording(src)
width, height = reader.getEventResolution()
config = dv.io.MonoCameraWriter.EventOnlyConfig(
    reader.getCameraName(), (width, height), dv.CompressionType.ZSTD)
writer = dv.io.MonoCameraWriter(dst, config)
while (store := reader.getNextEventBatch()) is not None:  # packets, not single events
    writer.writeEvents(store)
del writer  # dv-processing writes the file index when the writer is destroyed
PY
  cp "${raw%.aedat4}_labels.csv" recordings/
done
ls -l recordings
