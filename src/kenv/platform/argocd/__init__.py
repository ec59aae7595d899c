"""Argo CD for the management environment: the pinned install manifest (package data) and the
objects kenv adds to it, rendered as plain data. Nothing here starts a process."""
