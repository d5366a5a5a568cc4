#!/usr/bin/env bash
# Set up everything and run the whole test suite:
#   1. pytest: domain core, loan store (SQLite and PostgreSQL), actions
#   2. rasa data validate
#   3. train the model once (skipped when nothing changed)
#   4. rasa test: the test stories, failing on any prediction error
#   5. pytest -m e2e: real action server + Rasa server over HTTP, checking the database
# PostgreSQL tests use TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/postgres).
# Without a reachable server they are skipped and reported, unless REQUIRE_POSTGRES=1.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
setup_web
# The widget's browser test drives Debian's Chromium (headless, through Playwright).
command -v chromium >/dev/null || apt_install chromium
# The production-profile test runs `python -m bot cluster`, which puts nginx in front.
[ -x /usr/sbin/nginx ] || apt_install nginx-light
cd "$ROOT"
export TEST_POSTGRES_URL="${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"

log "1/5 Unit and integration tests"
python -m pytest -m "not e2e" -q

log "2/5 Validating the training data"
rasa data validate --fail-on-warnings --quiet

log "3/5 (training)"; train_model
MODEL="$(ls -t models/*.tar.gz | head -n 1)"

log "4/5 Test stories with $MODEL"
rm -rf results/stories  # (results/nlu-cv, from scripts/nlu_report.sh, is left alone)
rasa test core --model "$MODEL" --stories tests/ --fail-on-prediction-errors --out results/stories --quiet

log "5/5 End-to-end conversations against the real servers"
RASA_MODEL="$MODEL" python -m pytest -m e2e -q

log "All tests passed."
