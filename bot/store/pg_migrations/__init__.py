"""PostgreSQL schema of the store: one file per version, NNNN_name.sql."""
