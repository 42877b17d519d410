"""The risk core imports no web, database or Spark code (it must run anywhere)."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ["fastapi", "sqlalchemy", "duckdb", "pyspark", "uvicorn", "starlette"]


def test_import_risk_pulls_in_no_web_database_or_spark_code() -> None:
    code = (
        "import sys, json; import tradeguard.risk; from tradeguard.risk import score_batch;"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "tradeguard" in loaded and "lightgbm" in loaded  # the check itself sees modules
    assert sorted(loaded & set(FORBIDDEN)) == []
