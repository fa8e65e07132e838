"""Orchestration, the top floor: the ``smartgrid`` CLI, ``demo``, ``live`` and the stages both run.

It may import every part (producer, ingest, transform, dashboard, kafka_broker) and the
foundation (smartgrid); nothing imports it.
"""
