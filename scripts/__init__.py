"""The command scripts (run as `python scripts/NAME.py`); a package so that the tests
can import what they share: `from scripts.common import CHROMIUM, CHROMIUM_ARGS`."""
