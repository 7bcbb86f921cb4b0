"""Custom fields (SYS-11): administrator-defined fields per entity, stored in the entity's
`custom` JSON column and generated into forms, detail pages, list columns, filters, sort, the API,
import and export. See docs/architecture.md, "Custom fields"."""
