"""Prefect tasks: thin I/O around the casework, messages and the UI view of a case."""
