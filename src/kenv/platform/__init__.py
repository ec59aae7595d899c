"""The platform services kenv runs on its environments (PostgreSQL first)."""
