"""Training service: readmission data, features, HPO, MLflow registry, gates, promotion."""
