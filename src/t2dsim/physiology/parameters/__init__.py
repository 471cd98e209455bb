"""Parameter tables (CSV) with a unit and a source on every row."""
