"""Built-in presets (installed as glyphart.builtin_presets): NAME.toml, weights, record."""
