"""The demo pump guide's addresses, read from its content file (one list for the tests)."""

import tomllib
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "education" / "demo" / "intrathecal_pump.toml"
_PUMP = tomllib.loads(DEMO.read_text(encoding="utf-8"))["procedures"][0]

PUMP = f"/procedures/{_PUMP['slug']}/"
PARTS = [part["slug"] for part in _PUMP["parts"]]
