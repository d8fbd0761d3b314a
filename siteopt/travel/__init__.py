"""Drive times: road graphs from OpenStreetMap and the strategic network, matrices, and their check
against reference times."""
