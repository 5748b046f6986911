#!/usr/bin/env bash
# Creates the Python 3.12 environment if needed, checks the code with ruff, then runs the default test suite
# (slow suites excluded; `./dev/test.sh -m slow` runs them).
source "$(dirname "$0")/env.sh"
python -m ruff check zz_event tests validation benchmarks
python -m pytest "$@"
