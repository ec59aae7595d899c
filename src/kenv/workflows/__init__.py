"""Use cases as ordered, idempotent, resumable steps (create, delete, sync, up)."""
