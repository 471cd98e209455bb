"""Virtual populations: cohort presets and natural-history runs."""
