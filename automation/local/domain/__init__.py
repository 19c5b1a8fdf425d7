"""Domain rules over the MLflow store: experiments, runs, the registry, in API v2 terms."""
