#!/usr/bin/env bash
# Operator scale benchmark: 10,000 resources and 1,000 simulated sidecars. Builds the debug binaries (the operator's
# costs here are dominated by I/O and JSON, not by optimisation level), then runs run.py. Results:
# Benchmarks/results/operator-latest.json. Environment: NAMESPACES, PER_KIND, SIDECARS, CHANGES.
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build
venv=.venv-e2e
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r Tests/EndToEnd/requirements.txt
ulimit -n 65536 2>/dev/null || true
LLMESH_BIN="$PWD/.build/debug/llmesh" "$venv/bin/python" Benchmarks/operator/run.py
