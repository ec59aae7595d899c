"""Each environment's ingress on its `node_port`, where HAProxy routes `*.<env>.<base_domain>`."""
