#!/usr/bin/env bash
# Set up everything and run the assistant on the embedded defaults:
# SQLite loan store (var/loans.db) with the demo portfolio, in-memory tracker
# store, the action server on :5055 and Rasa on :5005 (REST + socket.io), all on
# 127.0.0.1 (RASA_INTERFACE changes Rasa's), browsers allowed only from the
# widget page's origin (WIDGET_ORIGINS changes it).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_venv
setup_web
cd "$ROOT"

log "Migrating the loan store and loading the demo portfolio"
python -m bot migrate
python -m bot seed-demo

train_model

ACTIONS_PORT="${ACTIONS_PORT:-5055}"
RASA_PORT="${RASA_PORT:-5005}"
# Rasa's endpoints (action server + its secret; tracker/lock stores when set) from settings
python -m bot endpoints --out var/endpoints.yml --action-server-url "http://127.0.0.1:${ACTIONS_PORT}/webhook"

log "Starting the action server on :${ACTIONS_PORT}"
python -m actions.server --port "$ACTIONS_PORT" > var/actions.log 2>&1 &
ACTIONS_PID=$!

# The team console takes conversations over through Rasa's HTTP API, which is on only
# with a token: without RASA_TOKEN in .env, one is made for this run (development only).
if [ -z "$(python -c 'from bot.settings import load_settings; print(load_settings().rasa_token)')" ]; then
  RASA_TOKEN="$(python -c 'import secrets; print(secrets.token_hex(24))')"
  export RASA_TOKEN
fi

# What the settings (.env) say Rasa listens on and whom browsers may call it from
WEB_PORT="$(python -c 'from bot.settings import load_settings; print(load_settings().web_port)')"
RASA_INTERFACE="$(python -c 'from bot.settings import load_settings; print(load_settings().rasa_interface)')"
RASA_HOST="$RASA_INTERFACE"
case "$RASA_HOST" in 0.0.0.0|"::") RASA_HOST=127.0.0.1 ;; *:*) RASA_HOST="[$RASA_HOST]" ;; esac
mapfile -t RASA_ARGS < <(python -c '
from bot.ops.endpoints import server_args
from bot.settings import load_settings
print("\n".join(server_args(load_settings())))
' || echo "--failed")
if [ "${RASA_ARGS[*]}" = "--failed" ] || [ "${#RASA_ARGS[@]}" -eq 0 ]; then
  echo "Could not read the settings for Rasa (see the error above)." >&2
  exit 1
fi

log "Starting the chat widget page on :${WEB_PORT}"
python -m bot web --port "$WEB_PORT" --socket-url "http://${RASA_HOST}:${RASA_PORT}" > var/web.log 2>&1 &
WEB_PID=$!
CONSOLE_PORT="$(python -c 'from bot.settings import load_settings; print(load_settings().console_port)')"
log "Starting the team console on :${CONSOLE_PORT}"
python -m bot console --port "$CONSOLE_PORT" > var/console.log 2>&1 &
CONSOLE_PID=$!
trap 'kill $ACTIONS_PID $WEB_PID $CONSOLE_PID 2>/dev/null || true' EXIT INT TERM

cat <<INFO

The assistant is starting on http://${RASA_HOST}:${RASA_PORT}, listening on ${RASA_INTERFACE} (give it ~20 seconds).
Talk to it:
  curl -s -XPOST http://${RASA_HOST}:${RASA_PORT}/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' -d '{"sender": "demo-1", "message": "hi"}'
  or, in another terminal:  .venv/bin/rasa shell --endpoints var/endpoints.yml
  or open the chat widget:  http://127.0.0.1:${WEB_PORT}/  ("Log in" as a demo borrower skips the loan reference)
Demo borrower: loan LN-10001, date of birth 12 March 1985 (see README for more).
The team console (handoff queue, live takeover, cases, dashboard):  http://127.0.0.1:${CONSOLE_PORT}/
  log in as demo / demo-console-15 (an admin; add people with: .venv/bin/python -m bot operators add NAME --role agent)
Agreements so far:  .venv/bin/python -m bot agreements
Stop with Ctrl-C.

INFO
# RASA_ARGS: --interface, --cors (the widget page's origin, or WIDGET_ORIGINS) and
# Rasa's HTTP API (used by `python -m bot remind`) only with a token: set RASA_TOKEN in .env.
rasa run --port "$RASA_PORT" --endpoints var/endpoints.yml --credentials var/credentials.yml "${RASA_ARGS[@]}"
