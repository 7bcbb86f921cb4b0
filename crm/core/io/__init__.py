"""Import and export for every registered entity (INT-4): CSV and XLSX in, CSV and XLSX out."""
