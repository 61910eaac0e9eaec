"""Shared code of Beacon's DAGs: settings, the executor seam, notifications, DAG defaults."""
