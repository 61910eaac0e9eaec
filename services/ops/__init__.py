"""Operator views: signals gathered from every workload for the ops page and the API's metrics."""
