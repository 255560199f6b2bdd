"""cxlist.upload."""
