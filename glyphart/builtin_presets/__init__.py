"""Built-in presets, shipped inside the package: NAME.toml, weights, record. Read-only."""
