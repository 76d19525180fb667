"""The gold-facts evaluation: drives the answer chain (or a running service) like a user and scores it."""
