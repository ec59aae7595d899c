"""The environment inventory: records, validation, allocation, storage, import and export."""
