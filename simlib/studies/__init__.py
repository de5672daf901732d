"""Studies: the experiments behind the notebooks.

:mod:`~simlib.studies.teaching` (queueing lessons: Erlang C against
simulation, utilisation and staffing studies, Little's law) and
:mod:`~simlib.studies.quality` (the value chain along a staffing sweep, the
Brady-Cronin hierarchy, the recovery paradox, a SERVQUAL structure check and
closing the gaps one at a time).
"""
