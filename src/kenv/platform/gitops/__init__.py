"""The GitOps repository's layout: what kenv writes where (pure; git itself is in runtime/git)."""
