"""The dbt part: run the dbt project on the lake (``runner``), its profiles, the Derby metastore's
lock, and publishing the CSV export; ``cli`` holds ``smartgrid build`` and ``smartgrid export``."""
