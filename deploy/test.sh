#!/usr/bin/env bash
# The whole test suite, from a clean clone on a fresh Debian 12 machine, as root: installs
# what is missing, builds three trees (libFuzzer targets with clang, ASan+UBSan, normal), then
# runs the fuzz tests, the sanitizer tests and all the others (unit, golden, integration).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bash "$here/deploy/install-deps.sh" --with-tests
python=(-DPython3_EXECUTABLE=/usr/bin/python3)
CC=clang CXX=clang++ bash "$here/deploy/build.sh" "$here/build-fuzz" -DVITRINE_FUZZ=ON
bash "$here/deploy/build.sh" "$here/build-asan" -DVITRINE_SANITIZE=ON "${python[@]}"
bash "$here/deploy/build.sh" "$here/build" "${python[@]}"
ctest --test-dir "$here/build-fuzz" --output-on-failure -j "$(nproc)" -E '^fuzz[.]coverage$'
# What each fuzz target's seed corpus reaches, per parser file: printed whether it passes or not
# (pipefail: a failing report fails the suite).
ctest --test-dir "$here/build-fuzz" --verbose -R '^fuzz[.]coverage$' | sed -n 's/^[0-9]*: //p'
ctest --test-dir "$here/build-asan" --output-on-failure -j "$(nproc)"
ctest --test-dir "$here/build" --output-on-failure
