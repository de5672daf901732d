"""Planning: staffing rules, shift schedules, staffing plans, costs and improvement measures.

:mod:`~simlib.planning.staffing` (Erlang staffing, square-root staffing,
shift scheduling, SIPP/lagged-SIPP/MOL/ISA plans checked by simulation),
:mod:`~simlib.planning.costs` (cost curves) and
:mod:`~simlib.planning.measures` (improvement measures applied to a scenario).
"""
