"""A region's geodata: load and validate a folder, and build the embedded LLR data."""
