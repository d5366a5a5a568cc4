"""Custom Rasa graph components (loaded by config.yml).

Importing the package also patches Rasa where it must: the guard for a failing
action server (components/action_guard.py), two hot spots
(components/speedups.py) and the work that grew with the length of a
conversation (components/long_conversations.py). Rasa loads this package with
the pipeline.
"""
from components import action_guard, long_conversations, speedups

action_guard.install()
speedups.install()
long_conversations.install()
