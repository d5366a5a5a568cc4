#!/usr/bin/env bash
# Set up everything and run the assistant on the embedded defaults:
# SQLite loan store (var/loans.db) with the demo portfolio, in-memory tracker
# store, the action server on :5055 and Rasa on :5005 (REST + socket.io).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
cd "$ROOT"

log "Migrating the loan store and loading the demo portfolio"
python -m bot migrate
python -m bot seed-demo

train_model

ACTIONS_PORT="${ACTIONS_PORT:-5055}"
RASA_PORT="${RASA_PORT:-5005}"
cat > var/endpoints.yml <<YAML
action_endpoint:
  url: "http://127.0.0.1:${ACTIONS_PORT}/webhook"
YAML

log "Starting the action server on :${ACTIONS_PORT}"
rasa run actions --actions actions --port "$ACTIONS_PORT" > var/actions.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT INT TERM

cat <<INFO

The assistant is starting on http://127.0.0.1:${RASA_PORT} (give it ~20 seconds).
Talk to it:
  curl -s -XPOST http://127.0.0.1:${RASA_PORT}/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' -d '{"sender": "demo-1", "message": "hi"}'
  or, in another terminal:  .venv/bin/rasa shell --endpoints var/endpoints.yml
Demo borrower: loan LN-10001, date of birth 12 March 1985 (see README for more).
Agreements so far:  .venv/bin/python -m bot agreements
Stop with Ctrl-C.

INFO
rasa run --port "$RASA_PORT" --endpoints var/endpoints.yml --credentials credentials.yml --cors "*"
