"""The workspace's web UI: our own page (projects, models, endpoints, promotions) and its login."""
