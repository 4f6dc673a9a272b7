#!/usr/bin/env bash
# `make package`: zip each function built by `make build` (target/lambda/<fn>/bootstrap) into
# target/lambda/<fn>/bootstrap.zip, the artefact Terraform deploys, and report its size.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
found=0
for dir in target/lambda/*/; do
  fn=$(basename "$dir")
  [ -f "$dir/bootstrap" ] || continue
  [ "$fn" = local ] && continue  # the development server is not deployed
  found=1
  rm -f "$dir/bootstrap.zip"
  # Python's zipfile keeps this free of a `zip` package dependency; 0755 keeps it executable.
  python3 - "$dir/bootstrap" "$dir/bootstrap.zip" <<'PY'
import sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    z.writestr(info, f.read(), compresslevel=9)
PY
  printf '%-24s %8d bytes\n' "$fn" "$(stat -c %s "$dir/bootstrap.zip")"
done
[ "$found" = 1 ] || { echo "no functions under target/lambda: run make build first" >&2; exit 1; }
