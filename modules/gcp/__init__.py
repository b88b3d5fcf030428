"""gcp constructs: one logical entity per file, typed props, secure defaults."""
