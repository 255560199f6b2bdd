"""cxlist.report."""
