"""Shared words of every room: ids, times, problems (API errors), shapes, listing, file paths."""
