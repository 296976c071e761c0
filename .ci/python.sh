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
"$venv/bin/pip" install --quiet "maturin>=1.7,<2" "ziglang>=0.13" "auditwheel>=6" "pytest>=8" "flask>=3" "fastapi>=0.110" "uvicorn>=0.29" \
  "gunicorn>=22" "httpx>=0.27" "cryptography>=42" "websockets>=12" "waitress>=3" "hypercorn>=0.16" \
  "django>=4.2" "djangorestframework>=3.15" >&2
# Lints of the binding crate (it is outside the workspace: maturin links it).
export PYO3_PYTHON=$venv/bin/python
cargo fmt --manifest-path "$crate/Cargo.toml" --check >&2
cargo clippy --quiet --manifest-path "$crate/Cargo.toml" --locked -- -D warnings >&2
# The wheel users install: manylinux2014 (glibc 2.17) x86_64, linked by
# zig against the old glibc (maturin --zig), whatever this machine's glibc.
wheels=$(mktemp -d)
(cd "$crate" && PATH="$venv/bin:$PATH" "$venv/bin/maturin" build --quiet --release --locked --zig \
  --compatibility manylinux2014 -o "$wheels" >&2)
wheel=$(ls "$wheels"/xfcc-*.whl)
case "$wheel" in
  *-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl) ;;
  *) echo "unexpected wheel tags: $wheel" >&2; exit 1 ;;
esac
# auditwheel: which platform tag its symbols allow, and that it needs no
# library outside the manylinux set (libc, libpthread, libdl, libm, libgcc_s).
# (Its text wraps with the terminal's width: read it as one line.)
audit=$("$venv/bin/auditwheel" show "$wheel")
echo "$audit" >&2
audit=$(tr -s ' \n' '  ' <<<"$audit")
grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"' <<<"$audit" || {
  echo "auditwheel: the wheel is not manylinux_2_17 (manylinux2014)" >&2; exit 1; }
if grep -q 'external shared libraries' <<<"$audit"; then
  echo "auditwheel: the wheel needs libraries outside the manylinux set" >&2; exit 1
fi
# Installed into a clean venv with nothing else: the core works without
# any framework.
clean=$(mktemp -d)
python3 -m venv "$clean/venv"
"$clean/venv/bin/pip" install --quiet --no-index "$wheel" >&2
"$clean/venv/bin/python" - "$root/crates/xfcc/tests/fixtures/envoy/rsa-chain.txt" >&2 <<'PY'
import sys, xfcc
header = open(sys.argv[1]).read()
p = xfcc.Policy.from_settings({"proxy_verifies_chain": True, "allow": [{"subject_cn": ["client-app.contoso.example"]}]})
c = p.verify(header)
assert c.subject_cn == ["client-app.contoso.example"], c.subject_cn
try:
    import flask  # noqa: F401
    raise SystemExit("the clean venv has flask: not clean")
except ImportError:
    pass
print("clean venv: xfcc", xfcc.__name__, "verified", c.subject_cn[0])
PY
rm -rf "$clean"
"$venv/bin/pip" install --quiet --force-reinstall --no-deps "$wheel" >&2
ls "$wheels" >&2
# Against the installed wheel, not the source tree: run from the tests
# directory, whose parent holds no `xfcc` package.
(cd "$crate/tests" && PYTEST_XFCC_CLI=${PYTEST_XFCC_CLI:-$root/target/debug/xfcc} \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider . >&2)
echo "$venv/bin"
