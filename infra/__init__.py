"""Beacon infrastructure as code: environment config, constructs and stacks (AWS CDK)."""
