"""Events workload: generated data, recommenders, offline evaluation, A/B tests, feedback."""
