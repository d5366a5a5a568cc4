#!/usr/bin/env bash
# Set up everything and run the whole test suite:
#   1. code checks: ruff (lint and format), mypy, import-linter (layers, no cycles)
#   2. pytest: tests/unit, tests/integration (loan store on SQLite and PostgreSQL, Redis), tests/actions
#   3. rasa data validate
#   4. train the model once (skipped when nothing changed)
#   5. rasa test: tests/stories, failing on any prediction error
#   6. pytest -m e2e: real action server + Rasa server over HTTP, checking the database;
#      the intent accuracy on the blind NLU sets per language (tests/e2e/test_nlu_holdout.py)
# PostgreSQL tests use TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
# Tests whose server (PostgreSQL, Redis, RabbitMQ) is not reachable are skipped and reported,
# unless REQUIRE_POSTGRES=1 / REQUIRE_REDIS=1 / REQUIRE_RABBITMQ=1 (tests/services.py).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
setup_web
# The widget's browser test drives Debian's Chromium (headless, through Playwright).
command -v chromium >/dev/null || apt_install chromium
# The production-profile test runs `python -m bot cluster`, which puts nginx in front.
[ -x /usr/sbin/nginx ] || apt_install nginx-light
cd "$ROOT"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

log "1/6 Code checks: ruff, mypy, import contracts"
ruff check .
ruff format --check .
mypy
lint-imports

log "2/6 Unit, integration and action tests"
# Two workers (pytest-xdist): every test has its own database, ports and files, and the
# slowest ones wait on subprocesses (the CLI tests), so the stage takes about half as long.
python -m pytest -m "not e2e" -q -n "${TEST_WORKERS:-2}" --durations=20  # the slowest, for whoever trims the run next

log "3/6 Validating the training data"
rasa data validate --fail-on-warnings --quiet

log "4/6 (training)"; train_model
MODEL="$(ls -t models/*.tar.gz | head -n 1)"

log "5/6 Test stories with $MODEL"
rm -rf results/stories  # (results/nlu-cv, from scripts/nlu_report.sh, is left alone)
rasa test core --model "$MODEL" --stories tests/stories --fail-on-prediction-errors --out results/stories --quiet

log "6/6 End-to-end conversations against the real servers"
# Two workers, each with its own servers and databases (tests spread one by one; the
# held-out sets are twelve long tests, one per set, language and step, collected first so
# that they fill one worker's opening run while the short tests balance the other).
RASA_MODEL="$MODEL" python -m pytest -m e2e -q -n "${TEST_WORKERS:-2}" --dist load --durations=25

log "All tests passed."
