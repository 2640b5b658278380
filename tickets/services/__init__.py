"""Domain services of the ticket service (no HTTP here)."""
