#!/usr/bin/env bash
# The Python package: builds the abi3 wheel with maturin (from PyPI) into a
# venv, installs it with the examples' servers, and runs pytest against the
# installed wheel. Prints the venv's bin/ on the last line (for e2e.py
# --python-bin). Usage: .ci/python.sh [VENV_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/target/py-venv}
crate=$root/crates/xfcc-python
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --upgrade pip
"$venv/bin/pip" install --quiet "maturin>=1.7,<2" "pytest>=8" "flask>=3" "fastapi>=0.110" "uvicorn>=0.29" \
  "gunicorn>=22" "httpx>=0.27" "cryptography>=42" "websockets>=12" "waitress>=3" "hypercorn>=0.16" \
  "django>=4.2" "djangorestframework>=3.15" >&2
# Lints of the binding crate (it is outside the workspace: maturin links it).
export PYO3_PYTHON=$venv/bin/python
cargo fmt --manifest-path "$crate/Cargo.toml" --check >&2
cargo clippy --quiet --manifest-path "$crate/Cargo.toml" --locked -- -D warnings >&2
wheels=$(mktemp -d)
(cd "$crate" && "$venv/bin/maturin" build --quiet --release --locked -o "$wheels" >&2)
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheels"/xfcc-*.whl >&2
ls "$wheels" >&2
# Against the installed wheel, not the source tree: run from the tests
# directory, whose parent holds no `xfcc` package.
(cd "$crate/tests" && PYTEST_XFCC_CLI=${PYTEST_XFCC_CLI:-$root/target/debug/xfcc} \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider . >&2)
echo "$venv/bin"
