"""PostgreSQL for the platform: render (pure) and operations (through an executor)."""
