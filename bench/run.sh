#!/usr/bin/env bash
# The benchmark of bench/RESULTS.md: kagami in memory and durable mode, and moto's
# server for comparison, in one run on this machine.
#
#   ./bench/run.sh                     defaults: 16 connections, 5 s per operation
#   ./bench/run.sh --duration 10       extra arguments go to kagami-bench
#   ./bench/run.sh --scenarios lambda  one group: Lambda cold starts and warm invokes of
#                                      no-op python3.12 and nodejs20.x functions (kagami
#                                      only; Node.js skipped without `node` on PATH)
#
# Prints markdown and keeps a copy in target/bench-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    -r bench/requirements.txt
cargo build --release -p kagami -p kagami-bench

out=target/bench-results.md
{
    echo "## $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- command: \`./bench/run.sh${*:+ $*}\`"
    echo "- machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')), $(free -g | awk '/^Mem:/ {print $2}') GiB, Linux $(uname -r)"
    echo "- kagami: $(target/release/kagami --version 2>/dev/null || echo unknown), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "- moto: $(python3 -c 'import moto; print(moto.__version__)') (\`python3 -m moto.server\`), Python $(python3 -c 'import platform; print(platform.python_version())')"
    echo
    target/release/kagami-bench --kagami target/release/kagami --moto "python3 -m moto.server" "$@"
} | tee "$out"
echo "(saved to $out)" >&2
