"""Pure, synchronous decisions (clock passed in), table-tested without a server."""
