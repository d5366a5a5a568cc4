"""Rules and values of debt collection: plain Python, no I/O, no Rasa, no database."""
