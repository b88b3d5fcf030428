"""Cloud Conductor custom checkov policies; checkov loads .py checks only from a folder with an __init__.py."""
