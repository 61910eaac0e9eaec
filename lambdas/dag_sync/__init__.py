"""DAG sync custom resource: copies pipelines/ into the MWAA source bucket."""
