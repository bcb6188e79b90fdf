"""Batch import and export: files, kinds, the import engine."""
