"""cxlist.sandbox."""
