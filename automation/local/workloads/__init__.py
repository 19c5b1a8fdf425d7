"""Child processes: job runs, applications, model builds and deployments, runtimes."""
