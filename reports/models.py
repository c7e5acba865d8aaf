"""Models of the reports app (monthly reports arrive with the report capability)."""
