"""Prefect tasks: thin I/O around the casebook, messages and the UI view of a case."""
