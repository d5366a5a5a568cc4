"""Custom Rasa graph components (loaded by config.yml).

Importing the package also patches Rasa where it must: the guard for a failing
action server (components/action_guard.py) and two hot spots
(components/speedups.py). Rasa loads this package with the pipeline.
"""
from components import action_guard, speedups

action_guard.install()
speedups.install()
