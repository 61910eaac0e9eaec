"""Registry-backed models for the API: alias resolution, smoke-tested loads, hot swap."""
