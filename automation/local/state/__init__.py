"""What is on disk: the state folder's paths, the document store, the key, the MLflow store."""
