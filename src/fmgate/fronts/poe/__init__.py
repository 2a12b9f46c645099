"""fronts/poe."""
