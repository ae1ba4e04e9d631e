"""Peer implementations for W2: the same chat fan-out written with other Python stacks."""
