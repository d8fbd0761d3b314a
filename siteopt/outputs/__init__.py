"""What people read: the report, web maps and print maps (the only place that imports folium and
matplotlib)."""
