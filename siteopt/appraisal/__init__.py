"""The options appraisal: long list, measures, hurdles, the Green Book case, the Pareto frontier,
enumeration and why each site loses beds.

The modules, in the order the data flows through them:

:mod:`~siteopt.appraisal.settings`
    The appraisal's settings (``[green_book]``, ``[appraisal]``) and shared thresholds.
:mod:`~siteopt.appraisal.longlist`
    The long list beyond the optimum: a user's options file and the next best options.
:mod:`~siteopt.appraisal.enumeration`
    Every configuration within the scenario's limits, when the space is small enough.
:mod:`~siteopt.appraisal.frontier`
    The cost/access Pareto frontier, on the MILP or read off the enumeration.
:mod:`~siteopt.appraisal.measures`
    What every option is measured by, and the option record
    (:class:`~siteopt.appraisal.measures.OptionResult`).
:mod:`~siteopt.appraisal.economics`
    The Green Book economic case and switching values.
:mod:`~siteopt.appraisal.why`
    Why each site loses beds: what keeping them would cost and change.
:mod:`~siteopt.appraisal.appraise`
    The whole appraisal: the long list assembled, measured, put through the hurdles, the
    preferred option chosen and explained.
"""
