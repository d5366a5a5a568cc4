#!/usr/bin/env bash
# Held-out borrower language (issue 17): how the assistant handles messages it was not
# trained on (tests/heldout/<lang>/), at the reason question, the offers and the
# read-back. Starts the real Rasa and action servers as the end-to-end tests do
# (tests/e2e/test_heldout.py), sends every message in its own fresh conversation and
# prints the per-step table: sensible share, asked-to-rephrase share, unintended
# actions, and every message that was not handled sensibly. Also writes
# results/heldout_<lang>.json and results/heldout_blind_<lang>.json (not committed; each
# step's test merges its section in). Exits non-zero when a test fails (an unintended
# action, a step below tests/heldout/floors.yml, a step not reached). One test per set
# and step (dev-en-reason ... blind-en-read_back): further arguments go to pytest.
#
#   bash scripts/heldout_report.sh [lang] [pytest args]   # default en; about 6 minutes for both sets
#   bash scripts/heldout_report.sh en -k offers            # the offers step of both sets only
#
# Trains first when models/ has no model (TRAIN=1: retrain if the data changed);
# RASA_MODEL=path picks a model; HELDOUT_SETS=dev or blind scores one set only (both by
# default: the development set tests/heldout/<lang>/ and the blind set
# tests/heldout/blind/<lang>/, whose figures the README reports); HELDOUT_DIR=dir scores
# other message files.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
cd "$ROOT"
LANGUAGE="${1:-en}"
shift || true
if [ -z "${RASA_MODEL:-}" ]; then
  if [ "${TRAIN:-0}" = 1 ] || ! ls models/*.tar.gz >/dev/null 2>&1; then
    log "Training the model (rasa train only trains when something changed)"
    rasa train --quiet --num-threads 2 --out models
  fi
  RASA_MODEL="$(ls -t models/*.tar.gz | head -n 1)"
fi
export RASA_MODEL
log "Held-out messages ($LANGUAGE) against $RASA_MODEL"
HELDOUT_LANGS="$LANGUAGE" python -m pytest -m e2e tests/e2e/test_heldout.py -q -s -p no:cacheprovider "$@"
