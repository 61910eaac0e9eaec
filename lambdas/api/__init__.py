"""The Beacon FastAPI app on Lambda through Mangum."""
