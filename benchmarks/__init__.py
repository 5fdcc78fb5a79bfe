"""Benchmarks of the product on a real local stack: run with `python -m benchmarks.<name>`.

Each benchmark starts its own Prefect server and process worker (`embedded.stack.Stack`)
on a free port with a fresh SQLite ledger in a temporary directory, prints a short
result and writes JSON to `benchmarks/results/<name>.json`. `python -m benchmarks.run_all`
runs them one after the other.
"""
