"""Running the refresh job: progress lines, and recovering runs whose process died (Dagster-facing)."""
