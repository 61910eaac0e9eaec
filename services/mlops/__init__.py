"""The platform layer workloads reuse: registry, aliases, run lookups, gates, metrics, caches."""
