"""Standard-care parameter table (standard_care.csv)."""
