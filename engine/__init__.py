"""PropFlow: a rules-and-config driven process engine for property management."""
