"""Ingest: load → clean → chunk → embed → store. Imports neither service nor eval."""
