"""Blue/green check: an ECS lifecycle hook that tests green tasks before traffic moves."""
