"""Beacon runtime services: plain Python libraries with one CLI (`beacon`)."""
