"""Files cxlist writes for its users (`cxlist init`)."""
