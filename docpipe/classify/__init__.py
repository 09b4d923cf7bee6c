"""Sorting a mixed folder: each document's class among the given schemas (or `other`), and with
--split the documents a file holds (a scanner's batch), as page ranges."""
