"""Container images: references, discovery, mirrors and proxies, node checks, bundles."""
