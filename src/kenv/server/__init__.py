"""`kenv serve`: the REST API (and the dashboard's static files) over the same workflows and
inventory calls the CLI makes. Only `cli/cmd_serve.py` imports this package, inside its command,
so the CLI's start-up never loads the web libraries."""
