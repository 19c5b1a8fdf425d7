"""How the local workspace runs code the way CML's ML Runtimes do: interpreters, environments, kernel."""
