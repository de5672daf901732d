"""Applications: the command line, the notebook widgets, the planner dashboard and the demo.

Interface code lives here and only here; nothing below imports it.
"""
