"""Producer: a seeded smart-meter fleet simulator, CSV/Parquet replay, and sinks (local, Event Hubs, stdout)."""
