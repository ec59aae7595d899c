"""Fake k3d / kind / minikube / kubectl CLIs for kenv's tests.

See tests/fakes/README.md.  The executables in tests/fakes/bin import
:func:`fakeclusters.main.main` by path, so nothing needs installing.
"""
