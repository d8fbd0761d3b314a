"""siteopt: which community hospitals keep inpatient wards, and at what size.

One sub-package per stage of the data flow (``CONTRIBUTING.md`` has the whole tree)::

    data (load + validate a geodata folder; build the embedded LLR data)
      -> travel (road graphs, drive-time matrices, their check)
      -> catalogue (bed need, ward capacity, each site's options)  ->  wards.instance (matrices)
      -> wards (PuLP MILP, honest solve, results, independent verifier, enumeration)
      -> appraisal (long list, measures, hurdles, Green Book case, frontier, why)
      -> outputs (report, web maps, print maps, charts)
    runs (prepare, scenarios, what-if, sweeps) ties the stages together; cli (click) calls runs.

National scale, on an external travel matrix (no road graph)::

    national.region (matrix + demand + sites) -> national.model (arrays -> HiGHS)
      -> national.solve (column generation, MILP, heuristics) -> national.run (figures, files)

Shared small modules: ``paths`` (embedded data, cache folder), ``crs`` (the one coordinate
conversion), ``fileio`` (atomic writes, CSV text), ``errors``, ``parallel``, ``solver_core``
(status words and tolerances shared by both model stacks).

Only ``wards`` and ``national`` import pulp or highspy, only ``outputs`` imports folium or
matplotlib, only ``cli`` imports click; ``tests/test_layout.py`` enforces it.
"""

__version__ = "0.1.0"
