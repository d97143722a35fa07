"""collectives.py then ddp.py in one job of 2 ranks: one MPI start instead of two."""

import runpy
from pathlib import Path

here = Path(__file__).resolve().parent
runpy.run_path(str(here / "collectives.py"), run_name="__main__")
runpy.run_path(str(here / "ddp.py"), run_name="__main__")
