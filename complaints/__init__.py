"""Application layer, one package per capability (cases, deadlines, notifications,
reporting, orchestration), with the settings, the time source and the command line."""
