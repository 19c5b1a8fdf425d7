"""cmlops: automate Cloudera Machine Learning's MLOps loop through its REST API v2."""

__version__ = "0.1.0"
