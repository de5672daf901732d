"""Theory: analytic queueing oracles (Erlang B/C/A, M/M/c/K, M/G/1, GI/M/1, Jackson networks).

:mod:`~simlib.theory.queueing` computes what a queue should do in steady
state, so simulation can be checked against it and staffing rules can use it.
It imports nothing else from simlib.
"""

from simlib.theory import queueing

__all__ = ["queueing"]
