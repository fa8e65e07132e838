"""Streaming ingest: event hub -> Delta raw, validated and quarantine tables, exactly once."""
