"""Serving service: the FastAPI app with one router per workload."""
