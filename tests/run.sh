#!/usr/bin/env bash
# Every check the project has: formatting, lints, Rust tests (unit + the real binary), the Python
# package built and installed into a local venv, and its pytest suite.
#
#   bash tests/run.sh
#
# Set CARGO_TARGET_DIR to reuse a build directory; SHARDGUARD_VENV to choose the venv path.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${SHARDGUARD_VENV:-$ROOT/.venv}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export CARGO_TARGET_DIR=$TARGET
FEATURES=(--features python)

step() { printf '\n==> %s\n' "$*"; }

step "python venv ($VENV)"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r python/requirements-test.txt
export VIRTUAL_ENV=$VENV
export PATH=$VENV/bin:$PATH
# pyo3 embeds this interpreter in `cargo test` builds.
export PYO3_PYTHON=$VENV/bin/python

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets "${FEATURES[@]}" -- -D warnings

step "cargo test"
cargo test "${FEATURES[@]}"

step "build and install the Python package"
maturin develop -q

step "pytest"
export SHARDGUARD_BIN=$TARGET/debug/shardguard
python -m pytest -q tests/python
