"""Activities: all I/O of the workflows (database, mail, Temporal describe calls)."""
