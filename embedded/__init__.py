"""The embedded one-machine stack (`complaints up`): the launcher of a local Prefect server
and workers, the demo cases, and the seeded synthetic complaints the demo, the tests and
the benchmarks use. Not part of the product's case handling."""
