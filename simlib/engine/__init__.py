"""The simulation engine: SimPy processes for arrivals, stations, staff, routing and abandonment.

The engine depends only on the scenario specification, the distributions and
the random streams; it imports no pandas and no plotting code. One call to
:func:`simulate` runs one replication and returns plain dictionaries.
"""

from simlib.engine.network import ReplicationRecord, ServiceNetwork, simulate

__all__ = ["ReplicationRecord", "ServiceNetwork", "simulate"]
