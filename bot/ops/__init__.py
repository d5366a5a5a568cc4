"""Tools for the lender's engineers and collections team: the CLI and what it runs."""
