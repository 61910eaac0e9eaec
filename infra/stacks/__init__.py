"""Stacks split by lifecycle: network, data (stateful), ML, serving, observability."""
