"""The L3 constructs, one module per pattern."""
