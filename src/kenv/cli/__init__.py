"""The command line: parse, call the inventory or a workflow, render the result, map errors to exit codes."""
