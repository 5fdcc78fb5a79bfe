"""Case handling: intake, the work done on a case, the case file people read, acting on a
waiting case, and keeping each case's run alive."""
