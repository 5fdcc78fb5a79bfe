"""Prefect as the product runs it: the server with busy retries and one decision per wait,
and the prefork worker."""
