"""Imported by a warm template in test_prefork; the test touches this file to play a
deployment of new code while the worker runs."""
