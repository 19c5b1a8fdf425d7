"""Routes: parse the request, call the workspace's domain and workloads, render API v2 JSON."""
