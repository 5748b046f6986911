#!/usr/bin/env bash
# Creates the Python 3.12 environment if needed, then runs the default test suite (slow suites excluded).
source "$(dirname "$0")/env.sh"
python -m pytest "$@"
