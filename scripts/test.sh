#!/usr/bin/env bash
# kagami's test command: every test, from a fresh checkout.
#
#   ./scripts/test.sh              everything
#   ./scripts/test.sh -k sqs       extra arguments go to pytest
#
# Environment:
#   KAGAMI_TEST_WORKERS   pytest-xdist workers (default 2; 0 runs in-process)
#   KAGAMI_TEST_TIMEOUT   per-test timeout in seconds (default 180)
set -euo pipefail

cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "Python test dependencies (tests/requirements.txt)"
pip_install() {
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check "$@"
}
# A distribution's own Python may refuse (PEP 668); the pinned test tools go in anyway.
pip_install -r tests/requirements.txt || pip_install --break-system-packages -r tests/requirements.txt

step "JavaScript SDK test dependencies (tests/js, npm ci)"
if command -v npm >/dev/null; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
else
    echo "npm not found: the JS SDK test is skipped (CI installs Node.js)"
fi

step "cargo test --release (default workspace members)"
# Release, so the dependencies compiled here are the ones the binary below reuses.
cargo test --release

step "cargo build --release -p kagami"
cargo build --release -p kagami

step "cargo test --release -p kagami-bench (the load generator builds and its units pass)"
cargo test --release -p kagami-bench

step "e2e-rust (aws-sdk-rust against target/release/kagami)"
# Outside the default members so ordinary builds never compile the SDK; its tests
# start target/release/kagami themselves (KAGAMI_BINARY overrides).
cargo test --release -p kagami-e2e-rust

step "pytest tests/ (black-box, against target/release/kagami)"
workers="${KAGAMI_TEST_WORKERS:-2}"
xdist=()
if [[ "$workers" != "0" ]]; then
    xdist=(-n "$workers")
fi
python3 -m pytest tests -q -p no:cacheprovider \
    --timeout="${KAGAMI_TEST_TIMEOUT:-180}" "${xdist[@]}" "$@"
