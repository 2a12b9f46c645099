"""Local fakes of services that cannot run here (Poe's own APIs)."""
