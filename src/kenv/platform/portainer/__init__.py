"""Portainer: the REST API's request bodies and answers (api), the edge agent's manifests (agent).
Pure: nothing here opens a connection or starts a process."""
