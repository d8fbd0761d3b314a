"""National scale on an external travel matrix: regions, the throughput model, its solver and the
national run."""
