"""An open-source CRM (see README.md)."""
