#!/usr/bin/env bash
# The main job, from a clean clone on a fresh Debian 12 machine, as root: installs what is
# missing, builds (the stand-in cabinet guest too), and runs the demo: vitrine-hostd boots the
# stand-in under libvirt behind netmon on a stand-in hospital network. Extra arguments go to
# deploy/demo.py (--keep leaves the cabinet running until Ctrl-C).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/deploy/install-deps.sh"
bash "$here/deploy/build.sh" "$here/build" -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
exec /usr/bin/python3 "$here/deploy/demo.py" --bin-dir "$here/build" "$@"
