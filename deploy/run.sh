#!/usr/bin/env bash
# The main job, from a clean clone on a fresh Debian 12 machine, as root: installs what is
# missing, builds, and runs the demo topology under the shipped demo policy. Extra arguments
# go to deploy/demo.py (--keep leaves it running until Ctrl-C).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/deploy/install-deps.sh"
bash "$here/deploy/build.sh" "$here/build" -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
exec /usr/bin/python3 "$here/deploy/demo.py" --netmon "$here/build/netmon/vitrine-netmon" "$@"
