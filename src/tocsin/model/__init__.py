"""Value types shared by every layer: runs, events, asset keys, metadata.

This is the bottom layer: it imports nothing else from tocsin but ``errors``. Every type
here is immutable and converts to and from plain JSON-able dicts (``to_dict`` /
``from_dict``) so that storage can keep it and a child process can read it back.
"""
