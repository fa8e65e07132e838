"""The file a Databricks ``spark_python_task`` runs (resources/ingest_job.yml, dbt_job.yml).

The bundle syncs this repository to the workspace; this script puts its root on ``sys.path``
and hands the task parameters to ``ingest.databricks_entry``. Running from the synced source,
not from a wheel installed on the cluster, keeps Databricks Runtime's own PySpark and Delta: the
project's wheel pins open-source pyspark/delta-spark (and dbt) for local runs, which must not be
installed over the runtime's. The ingest code needs nothing else.

    python deploy/databricks_task.py ingest --source kafka --lake abfss://... --secret-scope ...
    python deploy/databricks_task.py publish-export --lake abfss://...
"""

from __future__ import annotations

import sys
from pathlib import Path


def _repository_root() -> Path:
    # __file__ is set for a task's python_file; argv[0] is the fallback some launchers leave.
    here = globals().get("__file__") or sys.argv[0]
    return Path(here).resolve().parent.parent


if __name__ == "__main__":
    root = str(_repository_root())
    if root not in sys.path:
        sys.path.insert(0, root)
    from ingest.databricks_entry import main

    code = main(sys.argv[1:])
    if code:  # a zero exit is left implicit: some runners treat any SystemExit as a failure
        sys.exit(code)
