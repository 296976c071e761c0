#!/usr/bin/env bash
# Lints .github/workflows with two linters from PyPI: check-jsonschema
# (GitHub's workflow schema, vendored: offline) and zizmor (the security
# audits, --offline). Then shows each linter failing on a workflow with the
# fault it exists to catch, so a linter that checks nothing is noticed.
# Usage: .ci/lint-workflows.sh VENV_BIN
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$1
"$bin/pip" install --quiet "check-jsonschema>=0.29" "zizmor>=1.5"
cd "$root"
"$bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$bin/zizmor" --offline --config .github/zizmor.yml .github/workflows/
bad=$(mktemp -d)
mkdir -p "$bad/.github/workflows"
# A typo in a key the schema knows (runs-on).
sed 's/runs-on:/run-on:/' .github/workflows/python-release.yml >"$bad/.github/workflows/typo.yml"
if "$bin/check-jsonschema" --builtin-schema vendor.github-workflows "$bad/.github/workflows/typo.yml" >/dev/null 2>&1; then
  echo "check-jsonschema passed a workflow with run-on: for runs-on:" >&2; exit 1
fi
rm "$bad/.github/workflows/typo.yml"
# A template injection: a commit message expanded into a shell script.
cat >"$bad/.github/workflows/inject.yml" <<'YML'
name: bad
on: push
permissions: {}
jobs:
  x:
    runs-on: ubuntu-24.04
    steps:
      - run: echo "${{ github.event.head_commit.message }}"
YML
if "$bin/zizmor" --offline "$bad/.github/workflows/" >/dev/null 2>&1; then
  echo "zizmor passed a workflow with a template injection" >&2; exit 1
fi
rm -rf "$bad"
echo "workflows: schema and zizmor clean; both linters refuse the planted faults"
