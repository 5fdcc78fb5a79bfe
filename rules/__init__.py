"""Pure rules of complaint handling: no Prefect, no database, no network.

Everything here takes `now` (when it needs time) as a parameter and is tested in
milliseconds.
"""
