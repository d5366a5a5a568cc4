"""The outside world: the loan store (the only code that touches the ORM), migrations, HTTP clients."""
