"""kenv: a fleet of local Kubernetes environments kept in one inventory."""

__version__ = "0.1.0"
