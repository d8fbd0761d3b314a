"""siteopt: which community hospitals keep inpatient wards, and at what size.

The data flow, one module per stage::

    geodata (load + validate)  ->  roads / travel (drive-time matrices)  ->  demand (bed need)
        ->  model (PuLP MILP from matrices)  ->  solve  ->  results / appraisal  ->  maps / reports
        ->  cli (click)

National scale, on an external travel matrix (no road graph)::

    region (matrix + demand + sites)  ->  throughput_model (arrays -> HiGHS)
        ->  throughput_solve (column generation, MILP, heuristics)  ->  national (figures, files)

Only ``model`` and ``solve`` import pulp, only ``throughput_model`` and ``throughput_solve``
import highspy, only ``maps`` imports folium and only ``cli`` imports click.
"""

__version__ = "0.1.0"
