"""Cluster providers: k3d, kind, minikube and external, behind one Protocol (base.Provider)."""
