"""Reading files: YAML with positions, schemas, merge patches, estates, the library."""
