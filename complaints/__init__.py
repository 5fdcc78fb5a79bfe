"""Application layer: settings, clock, intake and actions services, the command line."""
