"""Runs of the whole data flow: prepare, scenarios, what-if comparisons and sweeps."""
