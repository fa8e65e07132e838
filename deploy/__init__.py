"""The deploy floor: entry points of the Databricks job tasks (resources/*.yml).

The wheel the bundle builds (databricks.yml, ``artifacts``) exposes them as console scripts
that a ``python_wheel_task`` runs. This floor sits on top, beside the CLI: it may import the
parts (``ingest``, the dbt runner) and the foundation; nothing imports it.
"""
