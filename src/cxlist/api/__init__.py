"""The CXone client: auth, retries, errors, and one backend per dialect."""
