"""Files attached to any record (DESIGN.md kernel mechanism 5, ACT-1): `Attachment` rows by
(content type, object id), permissions from the parent record through the scope predicate."""
