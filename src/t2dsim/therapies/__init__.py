"""Therapies: standard care (lifestyle, drugs, insulin) and stem-cell therapies. See base.py."""
