"""Custom Rasa graph components (loaded by config.yml)."""
