"""Ingest: load → clean → chunk → embed → store, over core. Imports neither service nor eval."""
