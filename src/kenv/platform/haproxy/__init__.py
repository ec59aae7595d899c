"""HAProxy as the single host entry: the configuration rendered whole from the inventory (pure)."""
