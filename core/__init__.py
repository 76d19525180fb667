"""Core: the parts ingest and service both use at query time (records, chunking, embeddings, store, lexical index, CPU checks).

Imports neither ingest nor service, so both can depend on it and never on each other.
"""
