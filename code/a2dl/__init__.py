"""Autoencoders and Transformers (CSE 676, Assignment 2): the package behind the report.

Chapters import from here; nothing in a chapter trains. See README.md for the layout.
"""

__version__ = "0.1.0"
