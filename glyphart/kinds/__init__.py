"""Generator kinds: one module each. Every kind answers the same few questions (its coverage at
any size, its outlines, its description), so nothing outside asks which kind it is."""
