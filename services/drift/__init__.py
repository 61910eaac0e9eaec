"""Drift detection, prediction monitoring and the simulated retraining loop."""
