import pytest

from simlib.datasets import load_holzinger_swineford, load_kiosk

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="session")
def hs():
    return load_holzinger_swineford()


@pytest.fixture(scope="session")
def kiosk():
    return load_kiosk()
