"""The options appraisal: long list, measures, hurdles, the Green Book case, the Pareto frontier,
enumeration and why each site loses beds."""
