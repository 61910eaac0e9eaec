"""HTTP routers: operations (health, readiness, metrics) and one router per workload."""
