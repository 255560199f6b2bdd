"""cxlist.pipeline."""
