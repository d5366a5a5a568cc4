"""Use cases: each takes the loan store (as a Protocol) and plain values, and calls the rules."""
