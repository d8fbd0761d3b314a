"""The LLR ward model: a matrix-only instance, the PuLP MILP, solving, results, the independent
verifier, exhaustive enumeration and heuristics."""
