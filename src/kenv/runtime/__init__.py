"""Side effects on the host: processes, sockets, Docker. Nothing else in kenv starts a process."""
