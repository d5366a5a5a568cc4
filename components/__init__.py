"""Rasa-side code: the graph components named in config.yml
(intent_classifier.py, vulnerability.py), the stores named in the endpoints
(tracker_store.py, lock_store.py), and the patches of Rasa (components/patches/:
the guard that answers `utter_action_server_unavailable` when the action server
fails, the speed-ups, long conversations).

Importing this package patches nothing. The modules Rasa loads call
`components.patches.install()` themselves; components/patches/__init__.py says
which and why.
"""
